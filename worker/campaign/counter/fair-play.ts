/**
 * 防刷 decisions as plain functions over plain data (PRODUCT §3.3): whether an assist that passed
 * the campaign's rules counts now, is held because its poster is under review, or waits for the
 * helper's stay period; what becomes of a waiting assist when its period ends; and what an
 * approval does with a poster's held assists. The ActivityCounter calls these inside the
 * transactions that count, so each assist is decided exactly once.
 */

/** An activity's 防刷 rules; null is off. */
export interface FairPlayRules {
  /** Burst: more than burstCount assists to one poster within burstSeconds holds the rest. */
  burstCount: number | null;
  burstSeconds: number | null;
  /** Stay period: an assist counts once its helper has followed this many hours. */
  stayHours: number | null;
}

/** A flagged poster's review: waiting, or decided. */
export type ReviewStatus = 'flagged' | 'approved' | 'voided';

/** What becomes of an assist the campaign's rules accepted. */
export type Gate =
  /** Counts now. */
  | { kind: 'count' }
  /** Held, not counted, until the poster's review; `flag`: this assist set off the burst rule. */
  | { kind: 'hold'; flag: boolean }
  /** Counts when the helper's stay period ends, if they still follow. */
  | { kind: 'wait'; dueAt: number };

const HOUR = 3600_000;

/** The first moment whose assists count towards the burst rule for an assist at `at` (null: rule off). */
export function burstSince(rules: FairPlayRules, at: number): number | null {
  return rules.burstCount === null || rules.burstSeconds === null ? null : at - rules.burstSeconds * 1000;
}

/**
 * Gates an assist to a poster. `recent`: the poster's assists (counted, held or waiting) since
 * {@link burstSince}. A poster under review holds every assist; one that already has
 * `burstCount` within the window holds this one and is flagged (an approved poster is trusted
 * for the rest of the activity). Otherwise the stay period, if any, makes it wait.
 */
export function gateAssist(rules: FairPlayRules, f: { at: number; recent: number; review: ReviewStatus | null }): Gate {
  if (f.review === 'flagged') return { kind: 'hold', flag: false };
  if (rules.burstCount !== null && f.review !== 'approved' && f.recent >= rules.burstCount) return { kind: 'hold', flag: true };
  return waitOrCount(rules, f.at, f.at);
}

/** Counts now, or waits until `at` + the stay period when that is still ahead of `now`. */
function waitOrCount(rules: FairPlayRules, at: number, now: number): Gate {
  if (rules.stayHours === null) return { kind: 'count' };
  const dueAt = at + rules.stayHours * HOUR;
  return dueAt > now ? { kind: 'wait', dueAt } : { kind: 'count' };
}

/** What the counter knows when a waiting assist's stay period ends. */
export interface StayFacts {
  /** The activity was deleted meanwhile. */
  deleted: boolean;
  /** The owner or the helper was blacklisted meanwhile. */
  barred: boolean;
  review: ReviewStatus | null;
}

/** A waiting assist whose helper stayed: it counts, is held (its poster is under review), or is dropped (barred). */
export function endOfStay(f: StayFacts): 'count' | 'hold' | 'drop' {
  if (f.deleted || f.barred) return 'drop';
  return f.review === 'flagged' ? 'hold' : 'count';
}

/** A held assist, as the counter recorded it. */
export interface HeldAssist {
  accountId: number;
  openId: string;
  at: number;
  /** When the helper unfollowed, if they did while held. */
  leftAt: number | null;
}

/**
 * An approved poster's held assists, in their original order: each counts now or waits for what
 * is left of its stay period; one whose helper has unfollowed meanwhile is dropped (an assist is a
 * follow that stays, and this one never counted).
 */
export function releaseHeld(rules: FairPlayRules, held: readonly HeldAssist[], now: number): { assist: HeldAssist; gate: Gate | { kind: 'drop' } }[] {
  return held.map((assist) => ({ assist, gate: assist.leftAt !== null ? { kind: 'drop' } : waitOrCount(rules, assist.at, now) }));
}
