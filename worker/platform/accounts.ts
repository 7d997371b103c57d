import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Flag, VerifyType } from '../db/values';
import { AppError } from '../errors';
import { toHex } from '../lib/bytes';
import type { Directory } from './directory';
import type { WeChatService } from './wechat-service';

/** An authorized official account as stored in public_numbers. */
export type Account = typeof schema.publicNumbers.$inferSelect;

/** An authorization link is good for 30 minutes and one use. */
const REQUEST_TTL_MS = 30 * 60_000;

/** Accounts change rarely (authorize, revoke); every push needs one, so each isolate keeps them briefly. */
const ACCOUNT_TTL_MS = 10_000;
const recentAccounts = new Map<string, { account: Account | undefined; at: number }>();

/** The authorized (not revoked) account behind a callback appid, if any. */
export async function authorizedAccount(db: Db, appid: string, now = Date.now()): Promise<Account | undefined> {
  const hit = recentAccounts.get(appid);
  if (hit && now - hit.at < ACCOUNT_TTL_MS) return hit.account;
  const account = await db.query.publicNumbers.findFirst({
    where: and(eq(schema.publicNumbers.authorizerAppid, appid), eq(schema.publicNumbers.authorized, Flag.yes)),
  });
  recentAccounts.set(appid, { account, at: now });
  return account;
}

/** Drops an account from this isolate's cache (it was revoked or re-authorized). */
export function forgetAccount(appid: string): void {
  recentAccounts.delete(appid);
}

/** The operator's accounts, most recently authorized first. */
export function listAccounts(db: Db, userId: number): Promise<Account[]> {
  return db.select().from(schema.publicNumbers).where(eq(schema.publicNumbers.userId, userId)).orderBy(desc(schema.publicNumbers.authorizedAt));
}

/**
 * Starts "授权公众号": records who asked, then builds WeChat's authorization page URLs whose
 * redirect names that request.
 */
export async function startAuthorization(db: Db, wechat: WeChatService, userId: number, publicBaseUrl: string, now = Date.now()) {
  const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
  await db.insert(schema.authorizeRequests).values({ id, userId, expiresAt: now + REQUEST_TTL_MS });
  const preAuthCode = await wechat.preAuthCode();
  const redirect = `${publicBaseUrl}/wechat/authorized?req=${id}`;
  return { url: wechat.authorizationPageUrl(preAuthCode, redirect), mobile_url: wechat.authorizationPageUrl(preAuthCode, redirect, true) };
}

/** Where an account is stored: its operator's shard (`db`), recorded in the directory. */
export interface AccountDeps {
  db: Db;
  shard: string;
  directory: Directory;
  wechat: WeChatService;
}

/**
 * Finishes the authorization WeChat redirected back: the request (in the home database) names the
 * operator, whose shard gets the account (query_auth + authorizer info → public_numbers).
 */
export async function completeAuthorization(
  deps: { home: Db; directory: Directory; forShard(shard: string): AccountDeps },
  requestId: string,
  authCode: string,
  now = Date.now(),
) {
  const claimed = await deps.home
    .update(schema.authorizeRequests)
    .set({ usedAt: now })
    .where(and(eq(schema.authorizeRequests.id, requestId), isNull(schema.authorizeRequests.usedAt), gt(schema.authorizeRequests.expiresAt, now)))
    .returning({ userId: schema.authorizeRequests.userId });
  if (!claimed.length) throw new AppError('bad_request', '授权链接已失效，请回到后台重新点击“授权公众号”');
  const { userId } = claimed[0];
  return refreshAccount(deps.forShard(await deps.directory.operatorShard(userId)), authCode, userId, now);
}

/**
 * query_auth with an authorization code, then stores the account for `userId` on their shard. An
 * account belongs to the first operator who authorized it, whatever shard they are on.
 */
export async function refreshAccount({ db, shard, directory, wechat }: AccountDeps, authCode: string, userId: number, now = Date.now()) {
  const auth = await wechat.queryAuth(authCode);
  const appid = auth.authorizer_appid;
  const existing = await db.query.publicNumbers.findFirst({ where: eq(schema.publicNumbers.authorizerAppid, appid) });
  if ((existing && existing.userId !== userId) || !(await directory.claimAccount(appid, userId, shard))) {
    throw new AppError('conflict', '该公众号已由其他媒体宝账号授权，请先在原账号中解除授权');
  }
  const info = await wechat.authorizerInfo(appid);
  const row = {
    userId,
    authorizerAppid: appid,
    nickName: info.nick_name ?? '',
    userName: info.user_name ?? '',
    headImg: info.head_img ?? '',
    serviceType: info.service_type_info?.id ?? 0,
    verifyType: info.verify_type_info?.id ?? VerifyType.unverified,
    principalName: info.principal_name ?? '',
    alias: info.alias ?? '',
    qrcodeUrl: info.qrcode_url ?? '',
    funcInfo: (auth.func_info ?? []).map((f) => f.funcscope_category.id),
    refreshToken: auth.authorizer_refresh_token,
    authorized: Flag.yes,
    authorizedAt: now,
    revokedAt: null,
    updatedAt: now,
  };
  const [saved] = await db.insert(schema.publicNumbers).values(row).onConflictDoUpdate({ target: schema.publicNumbers.authorizerAppid, set: row }).returning();
  forgetAccount(appid);
  return saved;
}
