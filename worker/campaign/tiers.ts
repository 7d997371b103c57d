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

/** The next tier still ahead of `count`, with how many assists it needs. */
export function nextTier(tiers: readonly Tier[], count: number): { remaining: number; good: string } | null {
  const t = [...tiers].sort((a, b) => a.number - b.number).find((x) => x.number > count);
  return t ? { remaining: t.number - count, good: t.good } : null;
}

/** How many tiers lie above `progress` (a task_progress level): the announcements still to come. */
export function tiersAhead(tiers: readonly Tier[], progress: number): number {
  return tiers.filter((t) => t.level > progress).length;
}
