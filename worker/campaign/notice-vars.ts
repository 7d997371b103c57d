import type { NoticeVars } from '../messaging/notices';
import { nextTier, type Tier, tierName } from './tiers';

/**
 * The variables of a notice that follow from a fan's count and the activity's tiers: what they
 * have, what is next, what they won. One wording for every notice, answer and page, so a fan
 * reads the same voice everywhere ("第一档", "再邀请 2 人可得第二档【保温杯】").
 */

/** What comes next for a fan with `number` assists and tiers up to `reached` won: the next tier and how far it is, or that every tier is reached. */
export function nextStep(tiers: readonly Tier[], number: number, reached: number): string {
  const next = nextTier(tiers, number, reached);
  return next ? `再邀请 ${next.remaining} 人可得${tierName(next.level)}【${next.good}】` : '你已完成全部任务';
}

/** A fan's count and what is next, for a fan who has won the tiers up to `reached` (their task_progress). */
export function progressVars(tiers: readonly Tier[], number: number, reached: number): NoticeVars {
  const next = nextTier(tiers, number, reached);
  return {
    number,
    remaining: next?.remaining ?? 0,
    next_good: next?.good ?? '',
    next_tier: next ? tierName(next.level) : '',
    next_step: nextStep(tiers, number, reached),
  };
}

/** A tier reached. */
export const tierVars = (tier: Tier): NoticeVars => ({ level: tier.level, tier: tierName(tier.level), good: tier.good });

/** What a fan won in the end (the highest tier reached), for the "活动已结束" notice. */
export function resultOf(tiers: readonly Tier[], taskProgress: number): string {
  const won = tiers.find((t) => t.level === taskProgress);
  return won ? `获得${tierName(won.level)}奖品【${won.good}】` : '未达成奖励档位';
}
