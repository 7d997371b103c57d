import notoEmoji from '@fontsource/noto-emoji/files/noto-emoji-emoji-400-normal.woff';
import notoSansSc from '@fontsource/noto-sans-sc/files/noto-sans-sc-chinese-simplified-400-normal.woff';
import { WoffFont } from './woff';

/**
 * The fonts poster text is set in, bundled with the Worker (no runtime download), in the order
 * each character is looked up:
 *
 * - Noto Sans SC, simplified-Chinese subset (7,946 code points incl. ASCII and CJK punctuation);
 * - Noto Emoji (monochrome), the single-file "emoji" subset (every emoji, 1,464 code points).
 *
 * Emoji sequences (skin tones, ZWJ families, flags) are drawn as their separate characters, as
 * the layout engine before did.
 */
const FONT_FILES = [notoSansSc, notoEmoji] as ArrayBuffer[];

let fonts: WoffFont[] | undefined;

/** The bundled fonts, read on first use (their directories only; tables as they are needed). */
export function posterFonts(): WoffFont[] {
  return (fonts ??= FONT_FILES.map((file) => new WoffFont(file)));
}

/** Horizontal ellipsis, appended to text cut to fit. */
const ELLIPSIS = '\u2026';

/** The first bundled font that draws `cp`, with its glyph; undefined when none does. */
export function glyphFor(cp: number): { font: WoffFont; glyph: number } | undefined {
  for (const font of posterFonts()) {
    const glyph = font.glyphOf(cp);
    if (glyph !== 0) return { font, glyph };
  }
  return undefined;
}

/** Advance of one character in em, from the font that draws it, or `undefined` when none does. */
export function advanceEm(cp: number): number | undefined {
  const found = glyphFor(cp);
  return found && found.font.advance(found.glyph) / found.font.unitsPerEm;
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
 * cut and ended with "…". Measured from the fonts' advance widths, as the text is set (no
 * kerning). Characters without a glyph count as zero.
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
