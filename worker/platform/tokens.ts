import { DurableObject } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { loadConfig } from '../config';
import { createDb, schema } from '../db/client';
import { shardDatabase } from '../db/shards';
import { Flag } from '../db/values';
import { AppError } from '../errors';
import { capture, type RpcResult } from '../rpc-result';
import { WeChatApiError, withFreshToken } from '../wechat/api';
import { refreshAuthorizerToken, requestComponentToken, type TokenGrant } from '../wechat/component';
import { Directory } from './directory';

interface Cached {
  token: string;
  expiresAt: number;
}

/** Tokens are used until five minutes before WeChat says they expire. */
const MARGIN_MS = 5 * 60_000;
export const TICKET_KEY = 'component_verify_ticket';

/** The one PlatformTokens instance. */
export const platformTokens = (ns: DurableObjectNamespace<PlatformTokens>): DurableObjectStub<PlatformTokens> => ns.get(ns.idFromName('platform'));

/**
 * The one holder of WeChat access tokens (a single instance, `idFromName('platform')`): the
 * component token and every authorizer token. Refreshes are single-flight: concurrent callers
 * wait on the same promise, so WeChat sees one refresh however many requests need a token.
 */
export class PlatformTokens extends DurableObject<Env> {
  private readonly inflight = new Map<string, Promise<string>>();

  /** The component_access_token, refreshed from the latest verify ticket when due. */
  componentToken(): Promise<RpcResult<string>> {
    return capture(() => this.component());
  }

  /** An authorizer_access_token for an authorized account, refreshed with its stored refresh token. */
  authorizerToken(appid: string): Promise<RpcResult<string>> {
    return capture(() => this.authorizer(appid));
  }

  private component(): Promise<string> {
    return this.cachedOrRefresh('component', async () => {
      const ticket = await createDb(this.env.DB).query.platformState.findFirst({ where: eq(schema.platformState.key, TICKET_KEY) });
      if (!ticket) throw new AppError('unavailable', '尚未收到微信推送的 component_verify_ticket，请稍后再试');
      return requestComponentToken(loadConfig(this.env).component, ticket.value);
    });
  }

  private authorizer(appid: string): Promise<string> {
    return this.cachedOrRefresh(`authorizer:${appid}`, async () => {
      // The account (and its refresh token) is on its operator's shard.
      const db = createDb(shardDatabase(this.env, await new Directory(createDb(this.env.DB)).accountShard(appid)));
      const account = await db.query.publicNumbers.findFirst({
        where: and(eq(schema.publicNumbers.authorizerAppid, appid), eq(schema.publicNumbers.authorized, Flag.yes)),
      });
      if (!account) throw new AppError('not_found', `公众号 ${appid} 未授权`);
      const cfg = loadConfig(this.env).component;
      try {
        const grant = await withFreshToken(
          () => this.component(),
          (failed) => this.invalidate('component', failed),
          (ct) => refreshAuthorizerToken(cfg, ct, appid, account.refreshToken),
        );
        if (grant.refreshToken !== account.refreshToken) {
          await db.update(schema.publicNumbers).set({ refreshToken: grant.refreshToken, updatedAt: Date.now() }).where(eq(schema.publicNumbers.id, account.id));
        }
        return grant;
      } catch (e) {
        // 61023: the refresh token is gone; only a new authorization by the operator helps.
        if (e instanceof WeChatApiError && e.errcode === 61023) {
          throw new AppError('wechat_error', `公众号 ${account.nickName || appid} 的授权已失效，请重新授权`);
        }
        throw e;
      }
    });
  }

  /** Caches a token WeChat handed out elsewhere (api_query_auth returns the first one). */
  async storeAuthorizerToken(appid: string, grant: TokenGrant): Promise<void> {
    await this.ctx.storage.put<Cached>(`authorizer:${appid}`, { token: grant.token, expiresAt: Date.now() + grant.expiresIn * 1000 });
  }

  /** Drops a token WeChat rejected, unless another caller has already replaced it. */
  async invalidate(key: 'component' | `authorizer:${string}`, failed: string): Promise<void> {
    const cached = await this.ctx.storage.get<Cached>(key);
    if (cached?.token === failed) await this.ctx.storage.delete(key);
  }

  /** Forgets an authorizer's token (account revoked). */
  async forgetAuthorizer(appid: string): Promise<void> {
    await this.ctx.storage.delete(`authorizer:${appid}`);
  }

  private async cachedOrRefresh(key: string, refresh: () => Promise<TokenGrant>): Promise<string> {
    const cached = await this.ctx.storage.get<Cached>(key);
    if (cached && cached.expiresAt - MARGIN_MS > Date.now()) return cached.token;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = (async () => {
        const grant = await refresh();
        await this.ctx.storage.put<Cached>(key, { token: grant.token, expiresAt: Date.now() + grant.expiresIn * 1000 });
        return grant.token;
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }
}
