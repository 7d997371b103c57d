import type { Outbound } from '../../messaging/outbox';
import { BLACK_FANS, BLACK_FLAGS, COUNTED_HELPERS, DEPARTED_HELPERS, OWNER_COUNTS } from '../participants';
import { ASSIST_HOLDS, REVIEWS } from '../review-queue';
import { ACTIVITY_ENDED, IMPORTED_CODES, WINNERS } from '../winners';
import type { ReviewStatus } from './fair-play';
import type { PrizeRecord } from './prizes';

/** A helper of the activity, by account and open id. */
interface FanRef {
  activityId: number;
  accountId: number;
  openId: string;
}

/** An assist held for review or waiting for its stay period, as it stands now. */
export interface HoldRecord extends FanRef {
  ownerRowId: number;
  reason: 'burst' | 'stay';
  at: number;
  dueAt: number | null;
  outcome: 'counted' | 'dropped' | 'left' | null;
  resolvedAt: number | null;
  /** When the helper unfollowed while their assist was held or waiting. */
  leftAt: number | null;
}

/** A poster's review as it stands now. */
export interface ReviewRecord {
  activityId: number;
  ownerRowId: number;
  status: ReviewStatus;
  flaggedAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
}

/** 兑换码 one outbox item carries at most, so a round's codes stay one modest D1 statement. */
export const CODES_PER_ITEM = 100;

/**
 * What one decision of an activity's Durable Object still has to apply outside it: D1 rows, the
 * owner's notice and the record of the helper's passive thanks. Every value is absolute (a count,
 * a flag, a whole record), never a delta, so applying an item twice changes nothing.
 */
export interface OutboxItem {
  /** A counted helper's take_part_in row (inserted, or updated when the fan already had one). */
  helper?: { activityId: number; accountId: number; openId: string; ownerOpenId: string; level: number; at: number };
  /** Helpers whose held or waiting assist counts now (防刷), each a row like `helper`'s. */
  helpers?: NonNullable<OutboxItem['helper']>[];
  /** A helper who unfollowed; `uncount` when their assist was taken back. */
  left?: { activityId: number; accountId: number; openId: string; at: number; uncount: 0 | 1 };
  /** A poster owner's counts. */
  owner?: { activityId: number; rowId: number; number: number; progress: number };
  /** Blacklist flags of participants. */
  black?: { activityId: number; rowId: number; black: 0 | 1 }[];
  /** Blacklist flags of fans known by open id (a voided poster's helpers). */
  blackFans?: (FanRef & { black: 0 | 1 })[];
  holds?: HoldRecord[];
  review?: ReviewRecord;
  /** Prizes won (or held, or voided), each the counter's whole record of it. */
  prizes?: PrizeRecord[];
  /** 兑换码 added to a code tier's pool. */
  codes?: { activityId: number; level: number; codes: string[]; at: number };
  /** Every tier's prizes are gone and the activity ends itself. */
  ended?: { activityId: number; at: number };
  /** For the message queue. */
  notes?: Outbound[];
}

export interface D1Write {
  sql: string;
  params: string[];
}

/**
 * The D1 statements and messages that apply `items` (in outbox order). Owner counts, flags,
 * prizes, holds and reviews are coalesced to each row's latest value; helpers are written before
 * departures, which is their only possible order (a helper counts once, and only one who followed
 * can leave). A departure repeats the worker's own "not following" write, for a helper row that
 * reached D1 after it.
 */
export function applyPlan(items: OutboxItem[]): { writes: D1Write[]; notes: Outbound[] } {
  const helpers: unknown[][] = [];
  const departures: unknown[][] = [];
  const owners = new Map<number, unknown[]>();
  const black = new Map<number, unknown[]>();
  const prizes = new Map<string, unknown[]>();
  const blackFans = new Map<string, unknown[]>();
  const holds = new Map<string, unknown[]>();
  const reviews = new Map<number, unknown[]>();
  const codes: unknown[][] = [];
  const ended: unknown[][] = [];
  const notes: Outbound[] = [];
  for (const item of items) {
    const { helper: h, left: l, owner: o, codes: c, ended: e, review: r } = item;
    for (const x of h ? [h, ...(item.helpers ?? [])] : (item.helpers ?? [])) helpers.push([x.activityId, x.accountId, x.openId, x.ownerOpenId, x.level, x.at]);
    for (const b of item.blackFans ?? []) blackFans.set(`${b.accountId}:${b.openId}`, [b.activityId, b.accountId, b.openId, b.black]);
    for (const x of item.holds ?? []) {
      holds.set(`${x.accountId}:${x.openId}`, [x.activityId, x.accountId, x.openId, x.ownerRowId, x.reason, x.at, x.dueAt, x.outcome, x.resolvedAt, x.leftAt]);
    }
    if (r) reviews.set(r.ownerRowId, [r.activityId, r.ownerRowId, r.status, r.flaggedAt, r.decidedAt, r.decidedBy]);
    if (l) departures.push([l.activityId, l.accountId, l.openId, l.at, l.uncount]);
    if (o) owners.set(o.rowId, [o.activityId, o.rowId, o.number, o.progress]);
    for (const b of item.black ?? []) black.set(b.rowId, [b.activityId, b.rowId, b.black]);
    for (const p of item.prizes ?? []) {
      prizes.set(`${p.ownerRowId}:${p.level}`, [p.activityId, p.ownerRowId, p.accountId, p.openId, p.level, p.kind, p.good, p.status, p.code, p.at]);
    }
    for (const code of c?.codes ?? []) codes.push([c!.activityId, c!.level, code, c!.at]);
    if (e) ended.push([e.activityId, e.at]);
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
  add(BLACK_FANS, [...blackFans.values()]);
  add(ASSIST_HOLDS, [...holds.values()]);
  add(REVIEWS, [...reviews.values()]);
  add(WINNERS, [...prizes.values()]);
  add(IMPORTED_CODES, codes);
  add(ACTIVITY_ENDED, ended);
  return { writes, notes };
}
