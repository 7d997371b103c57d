import notoEmoji from '@fontsource/noto-emoji/files/noto-emoji-emoji-400-normal.woff';
import notoSansSc from '@fontsource/noto-sans-sc/files/noto-sans-sc-chinese-simplified-400-normal.woff';
import type { Font } from 'satori/standalone';
import { type FontMetrics, readWoffMetrics } from './woff';

/** The family poster text is set in; emoji fall back to the second bundled font. */
export const POSTER_FONT_FAMILY = 'Noto Sans SC';

/**
 * Fonts handed to satori, bundled with the Worker (no runtime download).
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
 * The same ArrayBuffers are passed on every render, which lets satori reuse its parsed fonts.
 */
export const POSTER_FONTS: Font[] = [
  { name: POSTER_FONT_FAMILY, data: notoSansSc, weight: 400, style: 'normal' },
  { name: 'Noto Emoji', data: notoEmoji, weight: 400, style: 'normal' },
];

/** Horizontal ellipsis, appended to text cut to fit. */
const ELLIPSIS = '\u2026';

let metrics: FontMetrics[] | undefined;

/** Per-font coverage and advances, parsed from the bundled WOFFs on first use (a few ms). */
function fontMetrics(): FontMetrics[] {
  return (metrics ??= POSTER_FONTS.map((font) => readWoffMetrics(font.data as ArrayBuffer)));
}

/**
 * Advance of one character in em, from the first bundled font that has it — the order satori
 * resolves fonts in — or `undefined` when no font has it.
 */
export function advanceEm(cp: number): number | undefined {
  for (const font of fontMetrics()) {
    const advance = font.advances.get(cp);
    if (advance !== undefined) return advance / font.unitsPerEm;
  }
  return undefined;
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
  const chars = [...text];
  const widths = chars.map((ch) => (advanceEm(ch.codePointAt(0)!) ?? 0) * fontSize);
  if (widths.reduce((sum, w) => sum + w, 0) <= maxWidth) return text;

  const budget = maxWidth - (advanceEm(ELLIPSIS.codePointAt(0)!) ?? 1) * fontSize;
  let used = 0;
  let keep = 0;
  while (keep < chars.length && used + widths[keep] <= budget) used += widths[keep++];
  return chars.slice(0, keep).join('').trimEnd() + ELLIPSIS;
}
