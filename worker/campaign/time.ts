const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** The years the product deals in (Asia/Shanghai): activities' times and statistics' days lie within. */
export const EARLIEST = Date.UTC(2000, 0, 1) - 8 * HOUR;
export const LATEST = Date.UTC(2100, 0, 1) - 8 * HOUR;

/**
 * A stored time as shown: within the product's years. The API refuses anything else, but a time
 * written around it must still show (as the nearest bound) rather than fail a fan's keyword or
 * the operator's list: a Date past ±8.64e15 ms cannot be formatted at all.
 */
const shown = (ms: number) => Math.min(LATEST, Math.max(EARLIEST, ms));

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
  const p = Object.fromEntries(fmt.formatToParts(new Date(shown(ms))).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour === '24' ? '00' : p.hour}:${p.minute}`;
}

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
