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

/**
 * The rows of a CSV text (RFC 4180 quoting, any line ending, a leading BOM ignored), each with its
 * 1-based line number; blank lines are skipped. A spreadsheet's formula guard (a leading `'` that
 * csvCell adds) is taken off again.
 */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endCell = () => {
    cells.push(cell.replace(/^'(?=[=+\-@\t\r])/, '').trim());
    cell = '';
  };
  const endRow = () => {
    endCell();
    if (cells.some((c) => c !== '')) rows.push({ line: start, cells });
    cells = [];
  };
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"') quoted = true;
    else if (ch === ',') endCell();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      endRow();
      line++;
      start = line;
    } else cell += ch;
  }
  endRow();
  return rows;
}
