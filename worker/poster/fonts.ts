import notoEmoji from '@fontsource/noto-emoji/files/noto-emoji-emoji-400-normal.woff';
import notoSansSc from '@fontsource/noto-sans-sc/files/noto-sans-sc-chinese-simplified-400-normal.woff';
import type { Font } from 'satori/standalone';
import { type FontMetrics, readFontMetrics, woffToSfnt } from './woff';

/** The family poster text is set in; emoji fall back to the second bundled font. */
export const POSTER_FONT_FAMILY = 'Noto Sans SC';

/**
 * Fonts handed to satori, bundled with the Worker (no runtime download), in the order satori
 * resolves characters:
 *
 * - Noto Sans SC, simplified-Chinese subset (7,946 code points incl. ASCII and CJK punctuation).
 * - Noto Emoji (monochrome), the single-file "emoji" subset (every emoji, 1,464 code points).
 *   Not the numbered unicode-range subsets: satori 0.30 caches its per-character font choice by
 *   the first UTF-16 unit, so two astral emoji sharing a high surrogate (🎉 U+1F389 and 🌹
 *   U+1F339 both start with 0xD83C) would be drawn from whichever subset matched first — tofu for
 *   the other. One font holding all emoji sidesteps that.
 *
 * Each font has its own family name: satori keeps one font per family, so a second font under
 * the same name is never consulted (the "Latin font before CJK gave tofu" trap).
 */
const BUNDLED: { name: string; woff: ArrayBuffer }[] = [
  { name: POSTER_FONT_FAMILY, woff: notoSansSc },
  { name: 'Noto Emoji', woff: notoEmoji },
];

/** A bundled font unwrapped for satori (see `woffToSfnt`), with its coverage and advances. */
interface LoadedFont {
  font: Font;
  metrics: FontMetrics;
}

const loaded: LoadedFont[] = [];

/**
 * The `index`th bundled font, unwrapped and measured on first use: a fresh isolate whose first
 * poster has no emoji never reads the emoji font.
 */
function bundledFont(index: number): LoadedFont {
  let entry = loaded[index];
  if (!entry) {
    const { name, woff } = BUNDLED[index];
    const data = woffToSfnt(woff);
    entry = loaded[index] = { font: { name, data, weight: 400, style: 'normal' }, metrics: readFontMetrics(data) };
  }
  return entry;
}

/** The bundled font that draws `cp` (the first that has it) and its advance in em; undefined when none does. */
function fontFor(cp: number): { index: number; advanceEm: number } | undefined {
  for (let index = 0; index < BUNDLED.length; index++) {
    const { metrics } = bundledFont(index);
    const advance = metrics.advances.get(cp);
    if (advance !== undefined) return { index, advanceEm: advance / metrics.unitsPerEm };
  }
  return undefined;
}

/** Font lists as passed to satori, one per count of fonts needed: satori keeps its parsed fonts per list. */
const fontLists = new Map<number, Font[]>();

/**
 * The fonts satori needs to set `text`: the bundled fonts up to the last one any of its
 * characters is drawn from, so the emoji font is parsed only once a text has an emoji.
 */
export function fontsFor(text: string): Font[] {
  let needed = 1;
  for (const ch of text) needed = Math.max(needed, (fontFor(ch.codePointAt(0)!)?.index ?? 0) + 1);
  let list = fontLists.get(needed);
  if (!list) fontLists.set(needed, (list = Array.from({ length: needed }, (_, i) => bundledFont(i).font)));
  return list;
}

/** Horizontal ellipsis, appended to text cut to fit. */
const ELLIPSIS = '\u2026';

/**
 * Advance of one character in em, from the first bundled font that has it — the order satori
 * resolves fonts in — or `undefined` when no font has it.
 */
export function advanceEm(cp: number): number | undefined {
  return fontFor(cp)?.advanceEm;
}

/**
 * The distinct characters of `text` that no bundled font can draw (they would render as tofu
 * boxes), in order of first appearance; `[]` when the whole string renders.
 */
export function missingGlyphs(text: string): string[] {
  const missing = new Set<string>();
  for (const ch of text) if (advanceEm(ch.codePointAt(0)!) === undefined) missing.add(ch);
  return [...missing];
}

/**
 * `text` as it fits on one line of `maxWidth` px at `fontSize`: unchanged when it fits, otherwise
 * cut and ended with "…". Measured from the fonts' advance widths without kerning, which only
 * ever overestimates, so the result never overflows. Characters without a glyph count as zero.
 *
 * Done here rather than with CSS `text-overflow: ellipsis` because satori 0.30 keeps the first
 * character of every word before adding the ellipsis; with Chinese (one word per character) the
 * "…" lands past the edge and gets clipped to a single dot.
 */
export function fitText(text: string, fontSize: number, maxWidth: number): string {
  if (lineWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  const widths = chars.map((ch) => charWidth(ch, fontSize));

  const budget = maxWidth - (advanceEm(ELLIPSIS.codePointAt(0)!) ?? 1) * fontSize;
  let used = 0;
  let keep = 0;
  while (keep < chars.length && used + widths[keep] <= budget) used += widths[keep++];
  return chars.slice(0, keep).join('').trimEnd() + ELLIPSIS;
}

/** Width of `text` set on one line at `fontSize`, from the advances as {@link fitText} measures them. */
export function lineWidth(text: string, fontSize: number): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch, fontSize);
  return width;
}

const charWidth = (ch: string, fontSize: number) => (advanceEm(ch.codePointAt(0)!) ?? 0) * fontSize;
