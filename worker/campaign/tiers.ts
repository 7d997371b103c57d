import { TIER_NAMES } from './figures';

export interface Tier {
  level: number;
  number: number;
  good: string;
  stock: number | null;
}

/** Highest tier level whose threshold `count` meets (0 for none). */
export function tierReached(tiers: readonly Tier[], count: number): number {
  return tiers.reduce((best, t) => (count >= t.number && t.level > best ? t.level : best), 0);
}

/**
 * The next tier still ahead of a fan with `count` assists who has reached level `reached` (a
 * task_progress, never lowered: after a deduction the tiers reached stay reached), with how many
 * assists it needs.
 */
export function nextTier(
  tiers: readonly Tier[],
  count: number,
  reached = tierReached(tiers, count),
): { level: number; remaining: number; good: string } | null {
  const t = [...tiers].sort((a, b) => a.level - b.level).find((x) => x.level > reached);
  return t ? { level: t.level, remaining: Math.max(1, t.number - count), good: t.good } : null;
}

/** How many tiers lie above `progress` (a task_progress level): the announcements still to come. */
export function tiersAhead(tiers: readonly Tier[], progress: number): number {
  return tiers.filter((t) => t.level > progress).length;
}

/** "第一档": a tier as fans and the admin name it. */
export const tierName = (level: number) => `第${TIER_NAMES[level - 1] ?? level}档`;
