import { DAY, EARLIEST, HOUR, LATEST, shown } from '../lib/time';

export { EARLIEST, LATEST };

/** "2026-11-23", the Asia/Shanghai date of `ms`. */
export const shanghaiDate = (ms: number): string => isoShanghai(ms).slice(0, 10);

/** ISO 8601 with the +08:00 offset, how the API shows times. */
export function isoShanghai(ms: number): string {
  const d = new Date(shown(ms) + 8 * HOUR);
  return `${d.toISOString().slice(0, 19)}+08:00`;
}

/** The start of the Asia/Shanghai day `date` ("2026-11-23"), or null unless it is a real day within the product's years. */
export function parseShanghaiDay(date: string): number | null {
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  return ms >= EARLIEST && ms < LATEST && shanghaiDate(ms) === date ? ms : null;
}

/** Start of the Asia/Shanghai day containing `ms`, as UTC epoch ms. */
export function shanghaiDayStart(ms: number): number {
  return Math.floor((ms + 8 * HOUR) / DAY) * DAY - 8 * HOUR;
}

export type ActivityStatus = 'pending' | 'running' | 'ended';

export function activityStatus(a: { startTime: number; endTime: number }, now = Date.now()): ActivityStatus {
  if (now < a.startTime) return 'pending';
  return now >= a.endTime ? 'ended' : 'running';
}
