/**
 * Keyset paging for the fans list: a cursor names the row id a page continues from, so the
 * 1000th page costs what the first does. It also carries the page's number and the total counted
 * on the first page, so later pages need no count. Opaque to clients; forged values only mislabel
 * the operator's own view.
 */
export interface Cursor {
  /** 'after': the older rows past `id` (next page); 'before': the newer rows before it (previous). */
  dir: 'after' | 'before';
  id: number;
  /** The number of the page this cursor leads to. */
  page: number;
  total: number;
  capped: boolean;
}

const FORMAT = /^([ab])(\d{1,15})\.(\d{1,7})\.(\d{1,6})(\+?)$/;

export function encodeCursor(c: Cursor): string {
  return `${c.dir === 'after' ? 'a' : 'b'}${c.id}.${c.page}.${c.total}${c.capped ? '+' : ''}`;
}

/** The cursor, or null when the string is not one. */
export function decodeCursor(s: string): Cursor | null {
  const m = FORMAT.exec(s);
  if (!m) return null;
  const [id, page, total] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (!Number.isSafeInteger(id) || page < 1) return null;
  return { dir: m[1] === 'a' ? 'after' : 'before', id, page, total, capped: m[5] === '+' };
}
