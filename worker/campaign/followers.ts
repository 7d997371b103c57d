/**
 * account_fan: every fan ever seen on an account (any activity, any promo, a plain follow), which
 * 拉新保护 consults, and where promo attribution lives before the fan joins an activity.
 */
import { and, eq } from 'drizzle-orm';
import { type Db, schema } from '../db/client';
import { Flag } from '../db/values';
import { promoFanStatement } from './participants';

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
  SELECT f.value ->> 0, f.value ->> 1, f.value ->> 2, f.value ->> 3, ${Flag.yes}, f.value ->> 4 FROM json_each(?1) AS f WHERE true
  ON CONFLICT (public_number_id, open_id) DO UPDATE SET following = ${Flag.yes}
  RETURNING public_number_id, open_id, first_event, promo_id`;

const followRows = (follows: Follow[]) => JSON.stringify(follows.map((f) => [f.accountId, f.openId, f.eventKey, f.at, f.promoId]));

/**
 * Records follows on their accounts (in the order given) and tells, for each, whether its push
 * was the fan's first sighting there. Every subscribe runs this, so it is one prepared statement
 * without the query builder's per-call work, and the activity counter batches its callers' follows.
 */
export async function recordFollows(d1: D1Database, follows: Follow[]): Promise<FollowRecord[]> {
  const { results } = await d1
    .prepare(RECORD_FOLLOWS)
    .bind(followRows(follows))
    .all<{ public_number_id: number; open_id: string; first_event: string; promo_id: number | null }>();
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

/**
 * A follow that is not an assist (a plain follow, or through a promo code), in one D1 round trip:
 * recorded on the account (a trigger shows a returning fan as following again, migration 0005)
 * and listed among the fans when a promo brought them (PRODUCT §2.7).
 */
export async function recordPlainFollow(db: Db, follow: Follow): Promise<void> {
  const d1 = db.$client;
  await d1.batch([d1.prepare(RECORD_FOLLOWS).bind(followRows([follow])), promoFanStatement(d1, follow.accountId, follow.openId, follow.at)]);
}

/** The fan unfollowed the account (for a D1 batch); a later follow of any kind sets it again. */
export function markAccountUnfollowed(db: Db, accountId: number, openId: string) {
  const f = schema.accountFan;
  return db
    .update(f)
    .set({ following: Flag.no })
    .where(and(eq(f.accountId, accountId), eq(f.openId, openId)));
}
