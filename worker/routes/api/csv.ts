/**
 * What a spreadsheet may take for the start of a formula: = + - @, their fullwidth forms (which
 * CJK input methods type and some spreadsheets read as the ASCII ones), after any leading
 * whitespace (some trim it), or a leading tab or carriage return.
 */
const FORMULA = /^(\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|[\t\r])/;

/** A CSV cell: quoted, and defused (a leading ') when a spreadsheet could read it as a formula. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (FORMULA.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * A CSV download built page by page from `pages` (UTF-8 with a BOM, so spreadsheets read the
 * Chinese), never holding the whole set in memory.
 */
export function csvStream<T>(header: readonly string[], pages: AsyncIterator<T[]>, line: (item: T) => unknown[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const row = (cells: readonly unknown[]) => `${cells.map(csvCell).join(',')}\r\n`;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`\uFEFF${header.join(',')}\r\n`));
        return;
      }
      const next = await pages.next();
      if (next.done) return controller.close();
      controller.enqueue(encoder.encode(next.value.map((item) => row(line(item))).join('')));
    },
  });
}
