/**
 * The poster's rule: the activity's text set in the layout's rule box, wrapped line by line. When
 * it does not fit at the configured size it is set smaller, down to {@link minRuleFont}; only past
 * that is the end cut with "…" (and `fits` says so, so the designer can warn the operator).
 */
import { advanceEm, fitText, missingGlyphs } from './fonts';
import { type PosterLayout, TEXT_LINE_HEIGHT } from './layout';

/** How a rule is set: its lines at `fontSize`; `fits` is false when the end had to be cut. */
export interface RuleSetting {
  fontSize: number;
  lines: string[];
  fits: boolean;
}

/** The smallest size a rule set at `fontSize` may shrink to: 60 % of it, but not below 12 px (or its own size). */
export const minRuleFont = (fontSize: number) => Math.min(fontSize, Math.max(12, Math.ceil(fontSize * 0.6)));

/** Chinese line-breaking rules: closing punctuation never starts a line (避头)… */
const NO_LINE_START = new Set('，。、；：！？）》」』】〕〉”’…—,.;:!?)]}%');
/** …and opening brackets and quotes never end one (避尾). */
const NO_LINE_END = new Set('（《「『【〔〈“‘([{');
/** Latin letters and digits (with what joins them, e.g. "3.5", "e-mail") stay together as words. */
const WORD_CHAR = /^[\p{Script=Latin}\p{Nd}'’\-_.@/:%#&+]$/u;

/** A unit of line breaking: a space, a word, or one character (a Chinese character, an emoji). */
interface Piece {
  text: string;
  /** Advance in em (no kerning, so never less than what is drawn). */
  em: number;
  kind: 'space' | 'word' | 'char';
}

const graphemes = new Intl.Segmenter('zh', { granularity: 'grapheme' });
const emOf = (text: string) => [...text].reduce((sum, ch) => sum + (advanceEm(ch.codePointAt(0)!) ?? 0), 0);

/**
 * The rule's paragraphs (the operator's line breaks) as pieces: runs of spaces collapsed, blank
 * lines kept single, characters no bundled font can draw left out (they would be tofu).
 */
function paragraphs(text: string): Piece[][] {
  const missing = new Set(missingGlyphs(text));
  const paras = text
    .split(/\r?\n/)
    .map((line) => [...line.replace(/\s+/g, ' ').trim()].filter((ch) => !missing.has(ch)).join(''))
    .filter((line, i, all) => line !== '' || (i > 0 && all[i - 1] !== ''));
  while (paras.at(-1) === '') paras.pop();
  return paras.map((para) => {
    const pieces: Piece[] = [];
    for (const { segment } of graphemes.segment(para)) {
      const kind = segment === ' ' ? 'space' : WORD_CHAR.test(segment) ? 'word' : 'char';
      const last = pieces.at(-1);
      if (kind === 'word' && last?.kind === 'word') {
        last.text += segment;
        last.em += emOf(segment);
      } else pieces.push({ text: segment, em: emOf(segment), kind });
    }
    return pieces;
  });
}

const emSum = (pieces: readonly Piece[]) => pieces.reduce((sum, p) => sum + p.em, 0);

/** One paragraph broken into lines no wider than `maxEm` (a single character wider than that gets a line of its own). */
function wrap(pieces: readonly Piece[], maxEm: number): string[] {
  // A word longer than a line is broken between its characters.
  const units = pieces.flatMap((p) =>
    p.kind === 'word' && p.em > maxEm
      ? [...graphemes.segment(p.text)].map(({ segment }) => ({ text: segment, em: emOf(segment), kind: 'char' as const }))
      : [p],
  );
  const lines: Piece[][] = [[]];
  let used = 0;
  for (const p of units) {
    let line = lines[lines.length - 1];
    if (p.kind === 'space') {
      if (line.length) {
        line.push(p);
        used += p.em;
      }
      continue;
    }
    if (used + p.em > maxEm && line.length) {
      while (line.at(-1)?.kind === 'space') line.pop();
      // Take the line's last piece along rather than start the next with a closing mark or end this one with an opening one.
      const carried: Piece[] = [];
      if (NO_LINE_START.has(p.text[0]) && line.length > 1) carried.unshift(line.pop()!);
      while (line.length > 1 && NO_LINE_END.has(line[line.length - 1].text.at(-1)!)) carried.unshift(line.pop()!);
      if (emSum(carried) + p.em > maxEm) line.push(...carried.splice(0));
      line = [...carried];
      lines.push(line);
      used = emSum(carried);
    }
    line.push(p);
    used += p.em;
  }
  return lines.map((line) =>
    line
      .map((p) => p.text)
      .join('')
      .trimEnd(),
  );
}

/** The lines of `paras` at `fontSize`, and whether they all fit the box. */
function setAt(paras: Piece[][], box: Pick<PosterLayout['rule'], 'width' | 'height'>, fontSize: number) {
  const lines = paras.flatMap((p) => (p.length ? wrap(p, box.width / fontSize) : ['']));
  const maxLines = Math.max(1, Math.floor(box.height / (fontSize * TEXT_LINE_HEIGHT)));
  const fits = lines.length <= maxLines && lines.every((l) => emOf(l) * fontSize <= box.width);
  return { lines, maxLines, fits };
}

/**
 * Sets `text` in the rule box: at the configured size when it fits, else at the largest smaller
 * size that does (down to {@link minRuleFont}), else at that size with what does not fit cut and
 * the last line ended with "…". Measured from the fonts' advance widths without kerning, which
 * only ever overestimates, so a rule that fits is drawn whole inside its box.
 */
export function setRule(text: string, box: Pick<PosterLayout['rule'], 'width' | 'height' | 'fontSize'>): RuleSetting {
  const paras = paragraphs(text);
  const floor = minRuleFont(box.fontSize);
  for (let fontSize = box.fontSize; fontSize >= floor; fontSize--) {
    const { lines, fits } = setAt(paras, box, fontSize);
    if (fits) return { fontSize, lines, fits };
  }
  const { lines, maxLines } = setAt(paras, box, floor);
  const kept = lines.slice(0, maxLines);
  kept[kept.length - 1] = fitText(`${lines.slice(maxLines - 1).join('')}…`, floor, box.width);
  return { fontSize: floor, lines: kept, fits: false };
}
