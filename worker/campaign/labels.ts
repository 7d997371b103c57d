/**
 * What the product calls its prize kinds, prize statuses and logged actions, in Chinese: one
 * source for the API (exports, the audit log) and the admin (which imports this file as
 * `$labels`), so it has no imports of its own.
 */

/** 领奖方式 of a tier. */
export const PRIZE_KIND_LABELS = { onsite: '线下核销', code: '兑换码', shipping: '实物邮寄' } as const;

/** Where a prize stands. */
export const WINNER_STATUS_LABELS = { won: '待领取', claimed: '已领取', fulfilled: '已兑现', void: '已作废', held: '审核中' } as const;

/** Every action the audit log records. */
export const AUDIT_ACTIONS = {
  'fans.blacklist': '加入黑名单',
  'fans.unblacklist': '移出黑名单',
  'fans.export': '导出粉丝',
  'review.approve': '审核通过',
  'review.void': '审核作废',
  'prize.redeem': '核销',
  'prize.ship': '发货',
  'prize.ship_csv': '批量发货',
  'codes.import': '导入兑换码',
  'winners.export': '导出中奖名单',
  'winners.erase_contacts': '清除联系方式',
  'activity.edit': '修改进行中的活动',
} as const;
export type AuditAction = keyof typeof AUDIT_ACTIONS;
