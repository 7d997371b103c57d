export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

/** The years the product deals in (Asia/Shanghai): activities' times and statistics' days lie within. */
export const EARLIEST = Date.UTC(2000, 0, 1) - 8 * HOUR;
export const LATEST = Date.UTC(2100, 0, 1) - 8 * HOUR;

/**
 * A stored time as shown: within the product's years. The API refuses anything else, but a time
 * written around it must still show (as the nearest bound) rather than fail a fan's keyword or
 * the operator's list: a Date past ±8.64e15 ms cannot be formatted at all.
 */
export const shown = (ms: number) => Math.min(LATEST, Math.max(EARLIEST, ms));

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
