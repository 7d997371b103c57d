/**
 * account_fan: every fan ever seen on an account (any activity, any promo, a plain follow), which
 * 拉新保护 consults, and where promo attribution lives before the fan joins an activity.
 */
import { and, eq } from 'drizzle-orm';
import { type Db, schema } from '../db/client';
import { Flag } from '../db/values';
import { openEventWindows } from '../messaging/service-window';
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

/** A follow through a subscribe push, which also opens the fan's minute of customer-service sends. */
export type Subscribe = Follow & { appid: string };

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

type StoredFollow = { public_number_id: number; open_id: string; first_event: string; promo_id: number | null };

/**
 * Records subscribes on their accounts (in the order given) and tells, for each, whether its push
 * was the fan's first sighting there; each also opens the fan's minute window. Every assist runs
 * this, so it is one D1 round trip of prepared statements without the query builder's per-call
 * work, and the activity counter batches its callers' follows.
 */
export async function recordSubscribes(d1: D1Database, follows: Subscribe[]): Promise<FollowRecord[]> {
  const [recorded] = await d1.batch<StoredFollow>([d1.prepare(RECORD_FOLLOWS).bind(followRows(follows)), openEventWindows(d1, follows)]);
  return followRecords(follows, recorded.results);
}

function followRecords(follows: Follow[], results: StoredFollow[]): FollowRecord[] {
  const stored = new Map(results.map((r) => [`${r.public_number_id} ${r.open_id}`, r]));
  return follows.map((f) => {
    const row = stored.get(`${f.accountId} ${f.openId}`);
    if (!row) throw new Error('account_fan upsert returned no row');
    return { firstSighting: row.first_event === f.eventKey, promoId: row.promo_id };
  });
}

/** Records the follow of a fan who wrote to the account, and tells whether it was their first sighting there. */
export async function recordFollow(db: Db, follow: Follow): Promise<FollowRecord> {
  const { results } = await db.$client
    .prepare(RECORD_FOLLOWS)
    .bind(followRows([follow]))
    .all<StoredFollow>();
  return followRecords([follow], results)[0];
}

/**
 * A follow that is not an assist (a plain follow, or through a promo code), in one D1 round trip:
 * recorded on the account (a trigger shows a returning fan as following again, migration 0005),
 * listed among the fans when a promo brought them (PRODUCT §2.7), and the fan's minute window opened.
 */
export async function recordPlainFollow(db: Db, follow: Subscribe): Promise<void> {
  const d1 = db.$client;
  await d1.batch([
    d1.prepare(RECORD_FOLLOWS).bind(followRows([follow])),
    promoFanStatement(d1, follow.accountId, follow.openId, follow.at),
    openEventWindows(d1, [follow]),
  ]);
}

/** The fan unfollowed the account (for a D1 batch); a later follow of any kind sets it again. */
export function markAccountUnfollowed(db: Db, accountId: number, openId: string) {
  const f = schema.accountFan;
  return db
    .update(f)
    .set({ following: Flag.no })
    .where(and(eq(f.accountId, accountId), eq(f.openId, openId)));
}
