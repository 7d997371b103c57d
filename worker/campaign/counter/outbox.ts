import type { Outbound } from '../../messaging/outbox';
import { BLACK_FLAGS, COUNTED_HELPERS, DEPARTED_HELPERS, OWNER_COUNTS } from '../participants';

/**
 * What one decision of an activity's Durable Object still has to apply outside it: D1 rows, the
 * owner's notice and the record of the helper's passive thanks. Every value is absolute (a count, a flag), never a delta, so applying
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
  /** For the message queue. */
  notes?: Outbound[];
}

export interface D1Write {
  sql: string;
  params: string[];
}

/**
 * The D1 statements and messages that apply `items` (in outbox order). Owner counts and flags
 * are coalesced to each row's latest value; helpers are written before departures, which is their
 * only possible order (a helper counts once, and only one who followed can leave). A departure
 * repeats the worker's own "not following" write, for a helper row that reached D1 after it.
 */
export function applyPlan(items: OutboxItem[]): { writes: D1Write[]; notes: Outbound[] } {
  const helpers: unknown[][] = [];
  const departures: unknown[][] = [];
  const owners = new Map<number, unknown[]>();
  const black = new Map<number, unknown[]>();
  const notes: Outbound[] = [];
  for (const item of items) {
    const { helper: h, left: l, owner: o } = item;
    if (h) helpers.push([h.activityId, h.accountId, h.openId, h.ownerOpenId, h.level, h.at]);
    if (l) departures.push([l.activityId, l.accountId, l.openId, l.at, l.uncount]);
    if (o) owners.set(o.rowId, [o.activityId, o.rowId, o.number, o.progress]);
    for (const b of item.black ?? []) black.set(b.rowId, [b.activityId, b.rowId, b.black]);
    notes.push(...(item.notes ?? []));
  }
  const writes: D1Write[] = [];
  const add = (sql: string, rows: unknown[][]) => {
    if (rows.length) writes.push({ sql, params: [JSON.stringify(rows)] });
  };
  add(COUNTED_HELPERS, helpers);
  add(DEPARTED_HELPERS, departures);
  add(OWNER_COUNTS, [...owners.values()]);
  add(BLACK_FLAGS, [...black.values()]);
  return { writes, notes };
}
