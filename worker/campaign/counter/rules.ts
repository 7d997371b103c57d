/**
 * The campaign's decisions, as plain functions over plain data: whether an assist counts, which
 * tiers it wins (and whether their stock holds), what the owner is told, and what an unfollow takes
 * back. The ActivityCounter gathers the facts from its storage, calls these inside its transaction
 * and records the result; these never touch storage, so they are tested directly.
 */
import type { NoticeContent } from '../../messaging/outbox';
import { progressVars, tierVars } from '../notice-vars';
import { type Tier, tierReached, tiersAhead } from '../tiers';

/** An activity's settings as the counter sees them. */
export interface CounterSettings {
  startTime: number;
  endTime: number;
  /** 拉新保护: only fans never seen on the account count. */
  protect: boolean;
  /** 取关扣助力. */
  deduct: boolean;
  deleted: boolean;
  /** Ids of the accounts the activity runs on. */
  accounts: ReadonlySet<number>;
  tiers: readonly Tier[];
}

/** A poster owner's counts, as the counter keeps them. */
export interface Participant {
  rowId: number;
  openId: string;
  accountId: number;
  number: number;
  /** The highest tier level reached (never lowered). */
  taskProgress: number;
  level: number;
}

export type RefusalReason = 'self' | 'blacklisted' | 'not_new' | 'already' | 'not_running' | 'unknown_owner';

/**
 * An assist: counted, refused with why, held (its poster is under review, 防刷) or waiting (it
 * counts once the helper has stayed followed until `dueAt`).
 */
export type AssistOutcome =
  | { status: 'counted'; number: number; tier: number }
  | { status: 'refused'; reason: RefusalReason }
  | { status: 'held' }
  | { status: 'waiting'; dueAt: number };
export type CountedAssist = Extract<AssistOutcome, { status: 'counted' }>;

export type UnfollowOutcome = { status: 'deducted'; ownerRowId: number; number: number } | { status: 'none' };

/** Whether the activity takes assists on this account at this moment. */
export function isRunning(s: CounterSettings, accountId: number, at: number): boolean {
  return !s.deleted && s.accounts.has(accountId) && at >= s.startTime && at < s.endTime;
}

/** What the counter knows when a new follower came through a poster. */
export interface AssistFacts {
  accountId: number;
  helperOpenId: string;
  at: number;
  /** The poster's owner, if the poster belongs to this activity. */
  owner: Participant | undefined;
  /** This push recorded the helper's first sighting on the account (retries of it included). */
  newToAccount: boolean;
  ownerBlack: boolean;
  helperBlack: boolean;
  /** The helper already assisted in this activity (counted or taken back). */
  helpedBefore: boolean;
}

/** Decides one assist (PRODUCT §2.4): counted with the owner's new count and tier, or refused with why. */
export function judgeAssist(s: CounterSettings, f: AssistFacts): AssistOutcome {
  const refuse = (reason: RefusalReason): AssistOutcome => ({ status: 'refused', reason });
  const { owner } = f;
  if (!owner || owner.accountId !== f.accountId) return refuse('unknown_owner');
  if (!isRunning(s, f.accountId, f.at)) return refuse('not_running');
  if (owner.openId === f.helperOpenId) return refuse('self');
  if (f.ownerBlack || f.helperBlack) return refuse('blacklisted');
  // 拉新保护: only a fan never seen on the account counts, and stays bound to that first poster.
  if (s.protect && !f.newToAccount) return refuse('not_new');
  if (f.helpedBefore) return refuse('already');
  return addAssist(s.tiers, owner);
}

/** The owner's count and tier with one more assist (task_progress never goes down). */
export function addAssist(tiers: readonly Tier[], owner: Pick<Participant, 'number' | 'taskProgress'>): CountedAssist {
  const number = owner.number + 1;
  return { status: 'counted', number, tier: Math.max(owner.taskProgress, tierReached(tiers, number)) };
}

/** A tier an assist newly passed, and whether a prize was left for it. */
export interface TierClaim<T extends Tier = Tier> {
  tier: T;
  inStock: boolean;
}

/**
 * The tiers passed going from level `from` to level `to`, each with whether a prize is left for
 * it (`available`: stock, and codes for a code tier; see prizes.ts). A tier is passed once per
 * owner: a deduction never lowers task_progress, so re-passing it claims nothing.
 */
export function claimTiers<T extends Tier>(tiers: readonly T[], from: number, to: number, available: (tier: T) => boolean): TierClaim<T>[] {
  return tiers.filter((t) => t.level > from && t.level <= to).map((tier) => ({ tier, inStock: available(tier) }));
}

/**
 * A notice to a poster owner: its scene and variables (the queue consumer words it with the
 * activity's texts), whether it must arrive, and how many sends the fan's message window must
 * keep after it (for the prizes still ahead). The queue's Notice is this, addressed.
 */
export type Note = NoticeContent;

/**
 * What the owner is told of a counted assist: the tier newly passed (its prize, or that it is
 * gone) with their progress, or only their progress. WeChat allows few sends per window, so a
 * plain progress note asks the window to keep a send for every prize still ahead; an
 * announcement must arrive, and takes any send left.
 */
export function assistNote(tiers: readonly Tier[], outcome: CountedAssist, claims: readonly TierClaim[]): Note {
  const progress = progressVars(tiers, outcome.number, outcome.tier);
  const claim = claims.at(-1);
  if (!claim) return { scene: 'progress', vars: progress, mustArrive: false, reserve: tiersAhead(tiers, outcome.tier) };
  return { scene: 'tier_reached', vars: { ...progress, ...tierVars(claim.tier) }, mustArrive: true, reserve: 0, ...(claim.inStock ? {} : { soldOut: true }) };
}

/** What the counter knows when a fan unfollowed the account. */
export interface UnfollowFacts {
  accountId: number;
  at: number;
  /** The fan's assist in this activity, if they assisted. */
  helper: { ownerRowId: number; counted: boolean } | undefined;
  /** The owner of the poster they assisted, when that assist still counts. */
  owner: Participant | undefined;
}

/** 取关扣助力 (PRODUCT §2.5): a counted assist is taken back while the activity runs; prizes reached stay reached. */
export function judgeUnfollow(s: CounterSettings, f: UnfollowFacts): UnfollowOutcome {
  if (!f.helper?.counted || !f.owner || !s.deduct || !isRunning(s, f.accountId, f.at)) return { status: 'none' };
  return { status: 'deducted', ownerRowId: f.owner.rowId, number: f.owner.number - 1 };
}

/** What the owner is told when a helper's unfollow took an assist back: a plain note, like progress. */
export function deductNote(tiers: readonly Tier[], owner: Participant, number: number): Note {
  return { scene: 'deducted', vars: progressVars(tiers, number, owner.taskProgress), mustArrive: false, reserve: tiersAhead(tiers, owner.taskProgress) };
}
