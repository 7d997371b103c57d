/** Display helpers: the product shows every time in Asia/Shanghai, whatever the browser's zone. */

const parts = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

function shanghai(iso: string) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const p = Object.fromEntries(parts.formatToParts(d).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour === '24' ? '00' : p.hour}:${p.minute}` };
}

/** "2026-11-23 20:00", or "—" when there is no time. */
export function formatTime(iso: string | null | undefined): string {
  const s = iso ? shanghai(iso) : null;
  return s ? `${s.date} ${s.time}` : '—';
}

/** The value of a `datetime-local` input ("2026-11-23T20:00") for an API time. */
export function toLocalInput(iso: string | null | undefined): string {
  const s = iso ? shanghai(iso) : null;
  return s ? `${s.date}T${s.time}` : '';
}

/** A `datetime-local` value, read as Beijing time, in the API's ISO 8601 form with offset. */
export function fromLocalInput(value: string): string {
  const v = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return v;
  return `${v}:00+08:00`;
}

export const STATUS_LABEL = { pending: '未开始', running: '进行中', ended: '已结束' } as const;

/** 订阅号 / 服务号, and whether WeChat verified it. */
export function accountType(serviceType: number, verifyType: number): string {
  const kind = serviceType === 2 ? '服务号' : '订阅号';
  return `${verifyType >= 0 ? '认证' : '未认证'}${kind}`;
}

export const TIER_NAMES = ['一', '二', '三'] as const;

/** "第二档" for progress 2, "未达成" for 0. */
export function progressLabel(progress: number): string {
  return progress > 0 ? `已达第${TIER_NAMES[progress - 1] ?? progress}档` : '未达成';
}

export const number = new Intl.NumberFormat('zh-CN');

/** "12.5%" from a 0..1 ratio. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.1 ? 1 : 0)}%`;
}

/** 领奖方式 of a tier. */
export const PRIZE_KINDS = { onsite: '线下核销', code: '兑换码', shipping: '实物邮寄' } as const;

/** Where a prize stands, in words. */
export const WINNER_STATUS = { won: '待领取', claimed: '已领取', fulfilled: '已兑现', void: '已作废', held: '审核中' } as const;

/** What the audit log calls each action (the API's action_label, for the filter menu). */
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
