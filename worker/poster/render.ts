import satori from 'satori/standalone';
import { ensureLayoutEngine, ensureRasterEngine, type Pixels } from './engines';
import { fitText, missingGlyphs, POSTER_FONT_FAMILY, POSTER_FONTS } from './fonts';
import { DEFAULT_AVATAR_SVG, dataUrl, isDecodable, sniffRasterType, svgDataUrl } from './images';
import { encodeJpeg } from './jpeg';
import { DEFAULT_LAYOUT, type PosterLayout, TEXT_LINE_HEIGHT } from './layout';
import { encodePng } from './png';
import { qrPixels, qrSvg } from './qr';
import { type Layer, paintOver, rasterise, rasterisePixels, saveBox } from './raster';
import { setRule } from './rule';

export type { Pixels } from './engines';

/** Everything personal on one fan's poster. Pure data: no fetching happens while rendering. */
export interface PosterInput {
  /**
   * The operator's background as 750×1334 opaque pixels (see `coverPixels`). Painted on while the
   * poster is encoded and put back before `renderPoster` returns, so a cached copy can be passed.
   */
  background: Pixels;
  /** The fan's JPG/PNG avatar; `null` or undecodable bytes draw the bundled default avatar. */
  avatar: Uint8Array | null;
  /** Chinese + emoji; whitespace is collapsed, glyphs no bundled font has are dropped, cut with "…". */
  nickname: string;
  /** Wrapped in the layout's rule box (rule.ts): the operator's line breaks kept, shrunk or cut only when it does not fit. */
  rule: string;
  /** The URL WeChat's qrcode/create returned (or any text); encoded locally, level M. */
  qrContent: string;
  /** Defaults to {@link DEFAULT_LAYOUT}; pass untrusted layouts through `resolveLayout` first. */
  layout?: PosterLayout;
  /** Defaults to `'jpeg'`. */
  format?: 'jpeg' | 'png';
}

/** An encoded image ready to store or serve. */
export interface RenderedImage {
  bytes: Uint8Array;
  contentType: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
}

/** Product budget for a poster served to phones. */
export const MAX_JPEG_BYTES = 300 * 1024;
// JPEG quality steps: 80 keeps text and QR edges clean and lands around 100 KB on a photo;
// the lower steps only run for backgrounds noisy enough to blow the budget.
const JPEG_QUALITIES = [80, 65, 50, 35];

const DEFAULT_AVATAR_URL = svgDataUrl(DEFAULT_AVATAR_SVG);

/** Satori element tree as plain objects (satori's JSX shape), so no JSX runtime is needed. */
type Node = { type: string; props: Record<string, unknown> };
const el = (type: string, style: Record<string, unknown>, props: Record<string, unknown> = {}): Node => ({
  type,
  props: { ...props, style },
});

/** One line of text as the layout places it: top-left corner, box width, size, colour. */
export interface TextBox {
  x: number;
  y: number;
  width: number;
  fontSize: number;
  color: string;
}

/** Text laid out by satori: an SVG of the lines' box plus `margin` px all round. */
export interface TextSvg {
  svg: string;
  width: number;
  height: number;
  margin: number;
}

/**
 * Lays out text with satori and returns it as an SVG with the glyphs converted to outlines: one
 * line cut with "…" to fit the box, or lines already fitted to it (the rule), one under another.
 * Glyphs can overhang the line box (the line height is 1.25 em, Noto's ascent + descent more), so
 * the SVG has a margin of half the font size.
 */
export async function renderTextSvg(text: string | readonly string[], box: TextBox): Promise<TextSvg> {
  await ensureLayoutEngine();
  const lines = typeof text === 'string' ? [fitText(text, box.fontSize, box.width)] : text;
  const margin = Math.ceil(box.fontSize / 2);
  const lineHeight = box.fontSize * TEXT_LINE_HEIGHT;
  const width = box.width + 2 * margin;
  const height = Math.ceil(lineHeight * lines.length) + 2 * margin;
  const children = lines.map((line, i) =>
    el(
      'div',
      {
        position: 'absolute',
        left: margin,
        top: margin + i * lineHeight,
        width: box.width,
        fontSize: box.fontSize,
        lineHeight: TEXT_LINE_HEIGHT,
        color: box.color,
        whiteSpace: 'nowrap',
      },
      { children: line },
    ),
  );
  const root = el('div', { display: 'flex', position: 'relative', width, height, fontFamily: POSTER_FONT_FAMILY }, { children });
  try {
    return { svg: await satori(root, { width, height, fonts: POSTER_FONTS }), width, height, margin };
  } catch (cause) {
    throw new Error(`poster: satori could not lay out "${text}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The finished poster as opaque RGBA pixels (750×1334): the background with avatar, QR code,
 * nickname and rule painted on.
 */
export async function renderPosterPixels(input: PosterInput): Promise<Pixels> {
  const { background } = input;
  const layers = await compose(input);
  const canvas = { ...background, pixels: background.pixels.slice() };
  for (const layer of layers) paintOver(canvas, layer);
  return canvas;
}

/**
 * The layers to paint on the background, in order. Each element is rasterised on its own box
 * only, because resvg's cost (and the wasm memory it keeps) grows with the canvas it draws on;
 * the QR code needs no rasteriser at all.
 */
async function compose(input: PosterInput): Promise<Layer[]> {
  // The avatar probe and every layer need resvg; the texts need yoga.
  await Promise.all([ensureLayoutEngine(), ensureRasterEngine()]);
  const layout = input.layout ?? DEFAULT_LAYOUT;
  const nickname = { ...layout.nickname, width: layout.nickname.maxWidth };
  const texts = await Promise.all([textLayer(input.nickname, nickname), ruleLayer(input.rule, layout.rule)]);
  const qr = { ...qrPixels(input.qrContent, layout.qr.size), x: layout.qr.x, y: layout.qr.y };
  return [avatarLayer(input.avatar, layout.avatar), qr, ...texts.filter((text) => text !== null)];
}

/** The round avatar at its box, `object-fit: cover`; the default avatar for missing or undecodable bytes. */
function avatarLayer(bytes: Uint8Array | null, { x, y, size }: PosterLayout['avatar']): Layer {
  const href = bytes && isDecodable(bytes) ? dataUrl(bytes, sniffRasterType(bytes)!) : DEFAULT_AVATAR_URL;
  const r = size / 2;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    `<clipPath id="round"><circle cx="${r}" cy="${r}" r="${r}"/></clipPath>` +
    `<image width="${size}" height="${size}" preserveAspectRatio="xMidYMid slice" clip-path="url(#round)" href="${href}"/></svg>`;
  return { ...rasterisePixels(svg), x, y };
}

/** A text line rasterised at its box, or `null` when nothing of it is drawable. */
async function textLayer(text: string, box: TextBox): Promise<Layer | null> {
  const line = drawable(text);
  return line ? linesLayer(line, box) : null;
}

/** The rule set in its box (rule.ts) and rasterised there, or `null` when nothing of it is drawable. */
async function ruleLayer(text: string, box: PosterLayout['rule']): Promise<Layer | null> {
  const { lines, fontSize } = setRule(text, box);
  return lines.length ? linesLayer(lines, { ...box, fontSize }) : null;
}

async function linesLayer(text: string | readonly string[], box: TextBox): Promise<Layer> {
  const { svg, margin } = await renderTextSvg(text, box);
  return { ...rasterisePixels(svg), x: box.x - margin, y: box.y - margin };
}

/**
 * Renders one fan's poster as a JPEG (≤ 300 KB) or PNG.
 * @throws when the QR content is too long for one code; a missing or broken avatar is not an
 * error (the default avatar is drawn).
 */
export async function renderPoster(input: PosterInput): Promise<RenderedImage> {
  const { background } = input;
  const layers = await compose(input);
  // The layers go straight onto the (usually cached) background and what they covered is put back
  // after encoding, which saves copying 4 MB per poster. Nothing awaits in between, so no other
  // render sees the painted pixels.
  const putBack = layers.map((layer) => saveBox(background, layer));
  try {
    for (const layer of layers) paintOver(background, layer);
    return encode(background, input.format ?? 'jpeg');
  } finally {
    for (const restore of putBack) restore();
  }
}

function encode(canvas: Pixels, format: 'jpeg' | 'png'): RenderedImage {
  const { width, height } = canvas;
  if (format === 'png') return { bytes: encodePng(canvas), contentType: 'image/png', width, height };
  let bytes: Uint8Array = new Uint8Array();
  for (const quality of JPEG_QUALITIES) {
    bytes = encodeJpeg(canvas, quality);
    if (bytes.byteLength <= MAX_JPEG_BYTES) break;
  }
  return { bytes, contentType: 'image/jpeg', width, height };
}

/**
 * A plain QR code PNG (black on white, quiet zone included), e.g. for promo codes.
 * @param size edge length in px, 64–2000; default 430.
 */
export async function renderQrPng(content: string, size = 430): Promise<RenderedImage> {
  if (!Number.isInteger(size) || size < 64 || size > 2000) throw new RangeError(`poster: QR size must be an integer 64–2000, got ${size}`);
  await ensureRasterEngine();
  return rasterise(qrSvg(content, size), (image) => ({ bytes: image.asPng(), contentType: 'image/png', width: image.width, height: image.height }));
}

/** Collapses whitespace and drops characters no bundled font can draw (they would be tofu). */
function drawable(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const missing = new Set(missingGlyphs(line));
  return missing.size
    ? [...line]
        .filter((ch) => !missing.has(ch))
        .join('')
        .trim()
    : line;
}
