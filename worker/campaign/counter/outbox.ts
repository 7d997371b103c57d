import type { OutboundMessage } from '../../messaging/outbox';

/**
 * What one decision of an activity's Durable Object still has to apply outside it: D1 rows and a
 * customer-service message. Every value is absolute (a count, a flag), never a delta, so applying
 * an item twice changes nothing.
 */
export interface OutboxItem {
  /** A counted helper's take_part_in row (inserted, or updated when the fan already had one). */
  helper?: { activityId: number; accountId: number; openId: string; ownerOpenId: string; level: number; at: number };
  /** A helper who unfollowed; `uncount` when their assist was taken back. */
  left?: { activityId: number; accountId: number; openId: string; at: number; uncount: 0 | 1 };
  /** A poster owner's counts. */
  owner?: { activityId: number; rowId: number; number: number; progress: number };
  /** Blacklist flags of participants. */
  black?: { activityId: number; rowId: number; black: 0 | 1 }[];
  message?: OutboundMessage;
}

export interface D1Write {
  sql: string;
  params: string[];
}

// Each kind of write is one statement over a JSON array of rows (json_each), whatever the number
// of items: a round of 100 assists is three statements, not two hundred, and binds one parameter
// (D1 allows 100 per statement).
const HELPERS = `INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, origin, part_in, origin_open_id, level, subscribe_time, ctime, assist_counted, looking)
  SELECT h.value ->> 0, h.value ->> 1, (SELECT mtb_user_id FROM activity WHERE id = h.value ->> 0), h.value ->> 2, 0, 1, h.value ->> 3, h.value ->> 4, h.value ->> 5, h.value ->> 5, 1, 0
  FROM json_each(?1) AS h WHERE true
  ON CONFLICT (activity_id, public_number_id, open_id) DO UPDATE SET origin = 0, origin_open_id = excluded.origin_open_id,
    level = excluded.level, subscribe_time = excluded.subscribe_time, assist_counted = 1, looking = 0`;
// A departure applied after the fan followed again (account_fan says so) leaves them following.
const LEFT = `UPDATE take_part_in SET unsubscribe_time = l.value ->> 3,
    looking = CASE WHEN EXISTS (SELECT 1 FROM account_fan f WHERE f.public_number_id = take_part_in.public_number_id
      AND f.open_id = take_part_in.open_id AND f.following = 1) THEN looking ELSE 1 END,
    assist_counted = CASE WHEN l.value ->> 4 = 1 THEN 0 ELSE assist_counted END
  FROM json_each(?1) AS l
  WHERE take_part_in.activity_id = l.value ->> 0 AND take_part_in.public_number_id = l.value ->> 1 AND take_part_in.open_id = l.value ->> 2`;
const OWNERS = `UPDATE take_part_in SET number = o.value ->> 2, task_progress = o.value ->> 3 FROM json_each(?1) AS o
  WHERE take_part_in.id = o.value ->> 1 AND take_part_in.activity_id = o.value ->> 0`;
const BLACK = `UPDATE take_part_in SET black = b.value ->> 2 FROM json_each(?1) AS b
  WHERE take_part_in.id = b.value ->> 1 AND take_part_in.activity_id = b.value ->> 0`;

/**
 * The D1 statements and messages that apply `items` (in outbox order). Owner counts and flags
 * are coalesced to each row's latest value; helpers are written before departures, which is their
 * only possible order (a helper counts once, and only one who followed can leave). A departure
 * repeats the worker's own "not following" write, for a helper row that reached D1 after it.
 */
export function applyPlan(items: OutboxItem[]): { writes: D1Write[]; messages: OutboundMessage[] } {
  const helpers: unknown[][] = [];
  const departures: unknown[][] = [];
  const owners = new Map<number, unknown[]>();
  const black = new Map<number, unknown[]>();
  const messages: OutboundMessage[] = [];
  for (const item of items) {
    const { helper: h, left: l, owner: o, message } = item;
    if (h) helpers.push([h.activityId, h.accountId, h.openId, h.ownerOpenId, h.level, h.at]);
    if (l) departures.push([l.activityId, l.accountId, l.openId, l.at, l.uncount]);
    if (o) owners.set(o.rowId, [o.activityId, o.rowId, o.number, o.progress]);
    for (const b of item.black ?? []) black.set(b.rowId, [b.activityId, b.rowId, b.black]);
    if (message) messages.push(message);
  }
  const writes: D1Write[] = [];
  const add = (sql: string, rows: unknown[][]) => {
    if (rows.length) writes.push({ sql, params: [JSON.stringify(rows)] });
  };
  add(HELPERS, helpers);
  add(LEFT, departures);
  add(OWNERS, [...owners.values()]);
  add(BLACK, [...black.values()]);
  return { writes, messages };
}
