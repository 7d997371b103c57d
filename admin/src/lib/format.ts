/** Display helpers: the product shows every time in Asia/Shanghai, whatever the browser's zone. */

import { formatShanghai } from '$time';

function shanghai(iso: string) {
  const ms = new Date(iso).getTime();
  if (Number.isNaN(ms)) return null;
  const [date, time] = formatShanghai(ms).split(' ');
  return { date, time };
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

export { progressLabel, TIER_NAMES } from '$figures';

export const number = new Intl.NumberFormat('zh-CN');

/** "12.5%" from a 0..1 ratio. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.1 ? 1 : 0)}%`;
}

export { AUDIT_ACTIONS, PRIZE_KIND_LABELS as PRIZE_KINDS, WINNER_STATUS_LABELS as WINNER_STATUS } from '$labels';
