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

/** A fan seen following an account through one push. */
export interface Follow {
  accountId: number;
  openId: string;
  /** Dedup key of the push. */
  eventKey: string;
  promoId: number | null;
  at: number;
}

/** Whether the push was the fan's first sighting on the account, and the promo that brought them. */
export interface FollowRecord {
  firstSighting: boolean;
  promoId: number | null;
}

// One statement for any number of follows (json_each); the row remembers the push that created
// it, so a retry of that push is still a first sighting.
const RECORD_FOLLOWS = `INSERT INTO account_fan (public_number_id, open_id, first_event, first_seen_at, following, promo_id)
  SELECT f.value ->> 0, f.value ->> 1, f.value ->> 2, f.value ->> 3, 1, f.value ->> 4 FROM json_each(?1) AS f WHERE true
  ON CONFLICT (public_number_id, open_id) DO UPDATE SET following = 1
  RETURNING public_number_id, open_id, first_event, promo_id`;

const followRows = (follows: Follow[]) => JSON.stringify(follows.map((f) => [f.accountId, f.openId, f.eventKey, f.at, f.promoId]));

/**
 * Records follows on their accounts (in the order given) and tells, for each, whether its push
 * was the fan's first sighting there. Every subscribe runs this, so it is one prepared statement
 * without the query builder's per-call work, and the activity counter batches its callers' follows.
 */
export async function recordFollows(d1: D1Database, follows: Follow[]): Promise<FollowRecord[]> {
  const { results } = await d1.prepare(RECORD_FOLLOWS).bind(followRows(follows)).all<{ public_number_id: number; open_id: string; first_event: string; promo_id: number | null }>();
  const stored = new Map(results.map((r) => [`${r.public_number_id} ${r.open_id}`, r]));
  return follows.map((f) => {
    const row = stored.get(`${f.accountId} ${f.openId}`);
    if (!row) throw new Error('account_fan upsert returned no row');
    return { firstSighting: row.first_event === f.eventKey, promoId: row.promo_id };
  });
}

/** {@link recordFollows} for one follow. */
export async function recordFollow(db: Db, follow: Follow): Promise<FollowRecord> {
  const [record] = await recordFollows(db.$client, [follow]);
  return record;
}

// A fan a promo brought who is in no activity of the account is listed on a promo fan's row
// (no activity); a trigger drops that row when the fan gets an activity row (migration 0004).
const PROMO_FAN = `INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, origin, origin_open_id, part_in, ctime, subscribe_time)
  SELECT NULL, f.public_number_id, p.mtb_user_id, f.open_id, 1, CAST(p.id AS TEXT), 1, ?3, ?3 FROM account_fan f JOIN promo p ON p.id = f.promo_id
  WHERE f.public_number_id = ?1 AND f.open_id = ?2 AND NOT EXISTS (SELECT 1 FROM take_part_in t WHERE t.public_number_id = ?1 AND t.open_id = ?2)
  ON CONFLICT DO NOTHING`;

/**
 * A follow that is not an assist (a plain follow, or through a promo code), in one D1 round trip:
 * recorded on the account (a trigger shows a returning fan as following again, migration 0005)
 * and listed among the fans when a promo brought them (PRODUCT §2.7).
 */
export async function recordPlainFollow(db: Db, follow: Follow): Promise<void> {
  const d1 = db.$client;
  await d1.batch([
    d1.prepare(RECORD_FOLLOWS).bind(followRows([follow])),
    d1.prepare(PROMO_FAN).bind(follow.accountId, follow.openId, follow.at),
  ]);
}
