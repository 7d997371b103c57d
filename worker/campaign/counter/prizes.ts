/**
 * Prize decisions as plain functions over plain data (PRODUCT §3.2): whether a tier still has a
 * prize, when every tier is gone, what a won prize's record holds, how a claim code is drawn and
 * which imported codes are new. The ActivityCounter calls these inside the transaction that counts
 * the assist, so a prize (and its code) is taken exactly once.
 */
import type { PrizeKind } from '../activity-input';
import type { Tier } from '../tiers';

/** A tier with the way its prize reaches the winner. */
export interface PrizeTier extends Tier {
  kind: PrizeKind;
}

/** What a tier has given and has left: units of stock taken, and 兑换码 still in the pool. */
export interface TierSupply {
  taken: number;
  codes: number;
}

/** A tier has a prize while a unit of its stock (if limited) is left and, for a code tier, a code: running out of codes is running out of stock. */
export function inStock(tier: PrizeTier, supply: TierSupply): boolean {
  return (tier.stock === null || supply.taken < tier.stock) && (tier.kind !== 'code' || supply.codes > 0);
}

/** Every tier is gone: none can give another prize (an activity may then end itself). */
export function allGone(tiers: readonly PrizeTier[], supply: (level: number) => TierSupply): boolean {
  return tiers.length > 0 && tiers.every((t) => !inStock(t, supply(t.level)));
}

/** The counter's own status of a prize; the claim page and the operator add claimed / fulfilled in D1. */
export type PrizeStatus = 'won' | 'held' | 'void';

/** A prize as the counter records it, and writes it to D1 (`winner`) through its outbox. */
export interface PrizeRecord {
  activityId: number;
  ownerRowId: number;
  accountId: number;
  openId: string;
  level: number;
  kind: PrizeKind;
  good: string;
  status: PrizeStatus;
  /** The 兑换码 (code tiers) or the claim code (onsite tiers); none for shipping. */
  code: string | null;
  at: number;
}

/** Letters and digits staff cannot confuse when a fan reads the claim code out (no 0/O, 1/I/L). */
export const CLAIM_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
/** Characters after the activity id. */
export const CLAIM_CODE_LENGTH = 6;

/**
 * An onsite claim code, `<activity id>-XXXXXX` from `random` bytes: the activity id makes it
 * unique across activities, and the counter draws again when the activity already gave it.
 */
export function claimCode(activityId: number, random: Uint8Array): string {
  const chars = Array.from(random.subarray(0, CLAIM_CODE_LENGTH), (b) => CLAIM_CODE_ALPHABET[b % CLAIM_CODE_ALPHABET.length]);
  return `${activityId}-${chars.join('')}`;
}

/**
 * Which of an import's codes are new: each code once, and none the activity already has (in any
 * tier, so no code can reach two winners). `known` answers for the codes already in the pool.
 */
export function newCodes(codes: readonly string[], known: (code: string) => boolean): { add: string[]; duplicates: number } {
  const seen = new Set<string>();
  const add: string[] = [];
  for (const code of codes) {
    if (seen.has(code) || known(code)) continue;
    seen.add(code);
    add.push(code);
  }
  return { add, duplicates: codes.length - add.length };
}
