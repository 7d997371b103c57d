import satori from 'satori/standalone';
import { coverResize } from './cover';
import { ensureLayoutEngine, ensureRasterEngine, type Pixels } from './engines';
import { fitText, fontsFor, lineWidth, missingGlyphs, POSTER_FONT_FAMILY } from './fonts';
import { DEFAULT_AVATAR_SHAPES, decodeImage } from './images';
import { cleanMcus, type DirtyMcus, type EncodedMcus, encodeJpeg, encodeMcus } from './jpeg';
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
  /**
   * The background's MCUs already encoded ({@link encodeBackground}): the poster then encodes only
   * the MCUs its avatar, QR code and texts cover, and copies the rest.
   */
  backgroundMcus?: EncodedMcus | null;
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
/** Room a background's own JPEG leaves for what posters add to it, when its quality is chosen. */
const LAYER_ALLOWANCE = 24 * 1024;
/**
 * Pixels a fan's avatar may have. WeChat serves 132×132 or 640×640; anything larger is refused
 * before decoding, and the default avatar is drawn.
 */
export const MAX_AVATAR_PIXELS = 1024 * 1024;

/** One line of text as the layout places it: top-left corner, box width, size, colour. */
export interface TextBox {
  x: number;
  y: number;
  width: number;
  fontSize: number;
  color: string;
}

/** Satori element tree as plain objects (satori's JSX shape), so no JSX runtime is needed. */
type Node = { type: string; props: Record<string, unknown> };
const el = (type: string, style: Record<string, unknown>, props: Record<string, unknown> = {}): Node => ({
  type,
  props: { ...props, style },
});

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
  // As wide as the widest line (advances without kerning never underestimate), not the whole box:
  // resvg and the painting cost by area.
  const widest = Math.max(...lines.map((line) => lineWidth(line, box.fontSize)));
  const textWidth = Math.ceil(Math.min(box.width, widest));
  const width = textWidth + 2 * margin;
  const height = Math.ceil(lineHeight * lines.length) + 2 * margin;
  const children = lines.map((line, i) =>
    el(
      'div',
      {
        position: 'absolute',
        left: margin,
        top: margin + i * lineHeight,
        width: textWidth,
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
    return { svg: await satori(root, { width, height, fonts: fontsFor(lines.join('')) }), width, height, margin };
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
 * the QR code and a fan's avatar need no rasteriser at all.
 */
async function compose(input: PosterInput): Promise<Layer[]> {
  // The avatar and every text layer need resvg; the texts need yoga.
  await Promise.all([ensureLayoutEngine(), ensureRasterEngine()]);
  const layout = input.layout ?? DEFAULT_LAYOUT;
  const nickname = { ...layout.nickname, width: layout.nickname.maxWidth };
  const texts = await Promise.all([textLayer(input.nickname, nickname), ruleLayer(input.rule, layout.rule)]);
  const qr = { ...qrPixels(input.qrContent, layout.qr.size), x: layout.qr.x, y: layout.qr.y, opaque: true };
  return [await avatarLayer(input.avatar, layout.avatar), qr, ...texts.filter((text) => text !== null)];
}

/** The round avatar at its box, `object-fit: cover`; the default avatar for missing or undecodable bytes. */
async function avatarLayer(bytes: Uint8Array | null, { x, y, size }: PosterLayout['avatar']): Promise<Layer> {
  const own = bytes && (await decodedAvatar(bytes));
  if (own) return { ...roundCrop(coverResize(own, size, size)), x, y };
  let fallback = defaultAvatars.get(size);
  if (!fallback) {
    // The shapes drawn straight into the round clip, scaled to the box (no nested SVG image to parse).
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 132 132">` +
      `<clipPath id="round"><circle cx="66" cy="66" r="66"/></clipPath><g clip-path="url(#round)">${DEFAULT_AVATAR_SHAPES}</g></svg>`;
    fallback = rasterisePixels(svg);
    defaultAvatars.set(size, fallback);
  }
  return { ...fallback, x, y };
}

/** The default avatar rasterised per size (layers are only read), so most renders skip resvg for it. */
const defaultAvatars = new Map<number, Pixels>();

/** The avatar's pixels, or null when they do not decode or exceed {@link MAX_AVATAR_PIXELS}. */
async function decodedAvatar(bytes: Uint8Array): Promise<Pixels | null> {
  try {
    return await decodeImage(bytes, MAX_AVATAR_PIXELS);
  } catch {
    return null;
  }
}

/** Opaque square pixels cut to a circle, as premultiplied RGBA with an anti-aliased edge. */
function roundCrop(square: Pixels): Pixels {
  const { pixels, width } = square;
  const r = width / 2;
  for (let py = 0; py < width; py++) {
    for (let px = 0; px < width; px++) {
      // Coverage of the pixel by the disc, from its centre's distance to the edge.
      const coverage = Math.min(1, Math.max(0, r - Math.hypot(px + 0.5 - r, py + 0.5 - r) + 0.5));
      if (coverage === 1) continue;
      const i = (py * width + px) * 4;
      for (let c = 0; c < 4; c++) pixels[i + c] = Math.round(pixels[i + c] * coverage);
    }
  }
  return square;
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
    const painted = cleanMcus(background.width, background.height);
    for (const layer of layers) paintOver(background, layer, painted);
    if (input.format === 'png') return { bytes: encodePng(background), contentType: 'image/png', width: background.width, height: background.height };
    return encodeWithin(background, painted, input.backgroundMcus ?? null);
  } finally {
    for (const restore of putBack) restore();
  }
}

/**
 * The poster as a JPEG within the size budget: from the background's encoded MCUs when they
 * match, encoding only the MCUs the layers painted; otherwise, or when that is over budget, whole
 * at each lower quality in turn.
 */
function encodeWithin(canvas: Pixels, painted: DirtyMcus, mcus: EncodedMcus | null): RenderedImage {
  const { width, height } = canvas;
  const image = (bytes: Uint8Array): RenderedImage => ({ bytes, contentType: 'image/jpeg', width, height });
  let bytes: Uint8Array = new Uint8Array();
  if (mcus && mcus.width === width && mcus.height === height) {
    bytes = encodeJpeg(canvas, mcus.quality, { mcus, dirty: painted });
    if (bytes.byteLength <= MAX_JPEG_BYTES) return image(bytes);
  }
  for (const quality of JPEG_QUALITIES) {
    if (mcus && quality >= mcus.quality) continue;
    bytes = encodeJpeg(canvas, quality);
    if (bytes.byteLength <= MAX_JPEG_BYTES) break;
  }
  return image(bytes);
}

/**
 * A background's MCUs encoded once for all its posters (see {@link PosterInput.backgroundMcus}),
 * at the first quality step whose JPEG leaves room for the layers within the size budget.
 */
export function encodeBackground(background: Pixels): EncodedMcus {
  let mcus = encodeMcus(background, JPEG_QUALITIES[0]);
  for (const quality of JPEG_QUALITIES.slice(1)) {
    if (mcus.bytes.byteLength + 2 * mcus.offsets.length <= MAX_JPEG_BYTES - LAYER_ALLOWANCE) break;
    mcus = encodeMcus(background, quality);
  }
  return mcus;
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
