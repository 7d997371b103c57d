import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';

export type Account = typeof schema.publicNumbers.$inferSelect;

/** Accounts change rarely (authorize, revoke); every push needs one, so each isolate keeps them briefly. */
const ACCOUNT_TTL_MS = 10_000;
const accounts = new Map<string, { account: Account | undefined; at: number }>();

/** The authorized (not revoked) account behind a callback appid, if any. */
export async function authorizedAccount(db: Db, appid: string, now = Date.now()): Promise<Account | undefined> {
  const hit = accounts.get(appid);
  if (hit && now - hit.at < ACCOUNT_TTL_MS) return hit.account;
  const account = await db.query.publicNumbers.findFirst({
    where: and(eq(schema.publicNumbers.authorizerAppid, appid), eq(schema.publicNumbers.authorized, 1)),
  });
  accounts.set(appid, { account, at: now });
  return account;
}

/** Drops an account from this isolate's cache (it was revoked or re-authorized). */
export function forgetAccount(appid: string): void {
  accounts.delete(appid);
}

/**
 * Records a follow on the account and tells whether this push is the fan's first sighting there.
 * A retry of that same push still counts as first (the row remembers the push that created it).
 * Every subscribe runs this, so it is one prepared statement, without the query builder's
 * per-call work.
 */
export async function recordFollow(db: Db, accountId: number, openId: string, eventKey: string, promoId: number | null, now: number) {
  const row = await db.$client
    .prepare(
      `INSERT INTO account_fan (public_number_id, open_id, first_event, first_seen_at, following, promo_id) VALUES (?, ?, ?, ?, 1, ?)
       ON CONFLICT (public_number_id, open_id) DO UPDATE SET following = 1 RETURNING first_event, promo_id`,
    )
    .bind(accountId, openId, eventKey, now, promoId)
    .first<{ first_event: string; promo_id: number | null }>();
  if (!row) throw new Error('account_fan upsert returned no row');
  return { firstSighting: row.first_event === eventKey, promoId: row.promo_id };
}
