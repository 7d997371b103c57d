const fmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** "2026-11-23 20:00" in Asia/Shanghai, the product's display time. */
export function formatShanghai(ms: number): string {
  const p = Object.fromEntries(fmt.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour === '24' ? '00' : p.hour}:${p.minute}`;
}

/** "2026-11-23", the Asia/Shanghai date of `ms`. */
export const shanghaiDate = (ms: number): string => isoShanghai(ms).slice(0, 10);

/** ISO 8601 with the +08:00 offset, how the API shows times. */
export function isoShanghai(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  return `${d.toISOString().slice(0, 19)}+08:00`;
}

/** Start of the Asia/Shanghai day containing `ms`, as UTC epoch ms. */
export function shanghaiDayStart(ms: number): number {
  const day = 86_400_000;
  return Math.floor((ms + 8 * 3600_000) / day) * day - 8 * 3600_000;
}

export type ActivityStatus = 'pending' | 'running' | 'ended';

export function activityStatus(a: { startTime: number; endTime: number }, now = Date.now()): ActivityStatus {
  if (now < a.startTime) return 'pending';
  return now >= a.endTime ? 'ended' : 'running';
}
