import { eq } from 'drizzle-orm';
import { schema } from '../db/client';
import { Flag } from '../db/values';
import type { WeChatXml } from '../wechat/xml';
import { type AccountDeps, forgetAccount, refreshAccount } from './accounts';
import { TICKET_KEY } from './tokens';

/**
 * Handles a decrypted push to the authorization-event URL. Every InfoType is idempotent, so
 * WeChat's retries need no dedup here. `deps` is over the home database for the verify ticket,
 * and over the account's shard for the events about one account.
 */
export async function handleComponentEvent(deps: AccountDeps, msg: WeChatXml, now = Date.now()): Promise<void> {
  const { db, wechat } = deps;
  switch (msg.InfoType) {
    case 'component_verify_ticket': {
      const ticket = msg.ComponentVerifyTicket;
      if (!ticket) return;
      await db
        .insert(schema.platformState)
        .values({ key: TICKET_KEY, value: ticket, updatedAt: now })
        .onConflictDoUpdate({ target: schema.platformState.key, set: { value: ticket, updatedAt: now } });
      return;
    }
    case 'unauthorized': {
      const appid = msg.AuthorizerAppid;
      if (!appid) return;
      await db.update(schema.publicNumbers).set({ authorized: Flag.no, revokedAt: now, updatedAt: now }).where(eq(schema.publicNumbers.authorizerAppid, appid));
      forgetAccount(appid);
      await wechat.forgetAuthorizer(appid);
      return;
    }
    case 'updateauthorized': {
      // Only an account an operator already owns is refreshed; the owner does not change.
      const account = msg.AuthorizerAppid
        ? await db.query.publicNumbers.findFirst({ where: eq(schema.publicNumbers.authorizerAppid, msg.AuthorizerAppid) })
        : undefined;
      if (account && msg.AuthorizationCode) await refreshAccount(deps, msg.AuthorizationCode, account.userId, now);
      if (msg.AuthorizerAppid) forgetAccount(msg.AuthorizerAppid);
      return;
    }
    // `authorized` is completed by the operator's redirect (GET /wechat/authorized), which knows who they are.
    default:
      return;
  }
}
