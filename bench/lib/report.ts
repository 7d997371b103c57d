/** Plain-text tables for the terminal, and the verdicts that go into latest.json. */

export type Verdict = 'pass' | 'FAIL' | 'skipped';

export interface Check {
  target: string;
  measured: string;
  verdict: Verdict;
  note?: string;
}

export const verdict = (ok: boolean | null): Verdict => (ok === null ? 'skipped' : ok ? 'pass' : 'FAIL');

/** Display width: CJK characters take two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));

export function table(title: string, head: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = head.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) => `│ ${r.map((c, i) => pad(c, widths[i])).join(' │ ')} │`;
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  return [`\n${title}`, rule('┌', '┬', '┐'), line(head), rule('├', '┼', '┤'), ...cells.map(line), rule('└', '┴', '┘')].join('\n');
}

export function checksTable(title: string, checks: Check[]): string {
  return table(
    title,
    ['target', 'measured', 'verdict', 'note'],
    checks.map((c) => [c.target, c.measured, c.verdict, c.note ?? '']),
  );
}

export const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : 'n/a');
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
export const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
