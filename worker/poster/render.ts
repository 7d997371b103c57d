import satori from 'satori/standalone';
import { Resvg } from '@resvg/resvg-wasm';
import { encodeJpeg, ensureLayoutEngine, ensureRasterEngine } from './engines';
import { POSTER_FONT_FAMILY, POSTER_FONTS, fitText, missingGlyphs } from './fonts';
import { DEFAULT_AVATAR_SVG, isDecodable, svgDataUrl } from './images';
import { DEFAULT_LAYOUT, POSTER_HEIGHT, POSTER_WIDTH, TEXT_LINE_HEIGHT, type PosterLayout } from './layout';
import { qrSvg } from './qr';

/** Everything personal on one fan's poster. Pure data: no fetching happens while rendering. */
export interface PosterInput {
  /** Operator-uploaded JPG or PNG (validated by magic bytes by the caller); scaled to cover the canvas. */
  background: Uint8Array;
  /** The fan's JPG/PNG avatar; `null` or undecodable bytes draw the bundled default avatar. */
  avatar: Uint8Array | null;
  /** Chinese + emoji; whitespace is collapsed, glyphs no bundled font has are dropped, cut with "…". */
  nickname: string;
  /** One line, same treatment as the nickname. */
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

/** Raw RGBA pixels, row-major, 4 bytes per pixel. */
export interface PosterPixels {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Product budget for a poster served to phones. */
export const MAX_JPEG_BYTES = 300 * 1024;
// mozjpeg quality steps: 80 keeps text and QR edges clean and lands around 100–200 KB on a
// photo; the lower steps only run for backgrounds noisy enough to blow the budget.
const JPEG_QUALITIES = [80, 68, 55];

const DEFAULT_AVATAR_URL = svgDataUrl(DEFAULT_AVATAR_SVG);

/** Satori element tree as plain objects (satori's JSX shape), so no JSX runtime is needed. */
type Node = { type: string; props: Record<string, unknown> };
const el = (type: string, style: Record<string, unknown>, props: Record<string, unknown> = {}): Node => ({
  type,
  props: { ...props, style },
});

/**
 * Lays the poster out with satori and returns the SVG, text already converted to glyph paths.
 * Exposed so tests can check that text becomes real outlines rather than tofu.
 */
export async function renderPosterSvg(input: PosterInput): Promise<string> {
  // The avatar probe needs resvg; both engines are needed for any poster anyway.
  await Promise.all([ensureLayoutEngine(), ensureRasterEngine()]);
  const layout = input.layout ?? DEFAULT_LAYOUT;
  const { avatar, nickname, qr, rule } = layout;

  const avatarSrc = input.avatar && isDecodable(input.avatar) ? exactBuffer(input.avatar) : DEFAULT_AVATAR_URL;
  const children: Node[] = [
    el('img', { position: 'absolute', left: 0, top: 0, width: POSTER_WIDTH, height: POSTER_HEIGHT, objectFit: 'cover' }, {
      src: exactBuffer(input.background),
    }),
    el(
      'img',
      { position: 'absolute', left: avatar.x, top: avatar.y, width: avatar.size, height: avatar.size, borderRadius: avatar.size / 2, objectFit: 'cover' },
      { src: avatarSrc },
    ),
    el('img', { position: 'absolute', left: qr.x, top: qr.y, width: qr.size, height: qr.size }, {
      src: svgDataUrl(qrSvg(input.qrContent, qr.size)),
    }),
  ];
  const nicknameText = drawable(input.nickname);
  if (nicknameText) children.push(textLine(nicknameText, nickname.x, nickname.y, nickname.maxWidth, nickname.fontSize, nickname.color));
  const ruleText = drawable(input.rule);
  if (ruleText) children.push(textLine(ruleText, rule.x, rule.y, rule.width, rule.fontSize, rule.color));

  const root = el(
    'div',
    // White under the background, so a background resvg cannot decode yields white, not black.
    { display: 'flex', position: 'relative', width: POSTER_WIDTH, height: POSTER_HEIGHT, backgroundColor: '#ffffff', fontFamily: POSTER_FONT_FAMILY },
    { children },
  );
  try {
    return await satori(root, { width: POSTER_WIDTH, height: POSTER_HEIGHT, fonts: POSTER_FONTS });
  } catch (cause) {
    throw new Error(`poster: satori could not lay out the poster: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The poster as raw RGBA pixels (750×1334), e.g. to check the QR code decodes. */
export async function renderPosterPixels(input: PosterInput): Promise<PosterPixels> {
  return rasterise(await renderPosterSvg(input), (image) => ({ pixels: image.pixels, width: image.width, height: image.height }));
}

/**
 * Renders one fan's poster: satori → SVG → resvg → JPEG (mozjpeg, ≤ 300 KB) or PNG.
 * @throws on an unreadable background or QR content too long for one code; a missing or broken
 * avatar is not an error (the default avatar is drawn).
 */
export async function renderPoster(input: PosterInput): Promise<RenderedImage> {
  const svg = await renderPosterSvg(input);
  if (input.format === 'png') return rasterise(svg, pngOf);

  const { pixels, width, height } = rasterise(svg, (image) => ({ pixels: image.pixels, width: image.width, height: image.height }));
  let bytes = new Uint8Array();
  for (const quality of JPEG_QUALITIES) {
    bytes = await encodeJpeg(pixels, width, height, quality);
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
  return rasterise(qrSvg(content, size), pngOf);
}

type ResvgImage = ReturnType<InstanceType<typeof Resvg>['render']>;

/** Runs resvg and frees its wasm-side memory whatever `read` does. */
function rasterise<T>(svg: string, read: (image: ResvgImage) => T): T {
  // Satori already turned text into paths, so resvg needs no fonts at all.
  const resvg = new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: false } });
  try {
    const image = resvg.render();
    try {
      return read(image);
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}

function pngOf(image: ResvgImage): RenderedImage {
  return { bytes: image.asPng(), contentType: 'image/png', width: image.width, height: image.height };
}

/** One line of text, cut with "…" to fit `width`. */
function textLine(text: string, x: number, y: number, width: number, fontSize: number, color: string): Node {
  return el(
    'div',
    { position: 'absolute', left: x, top: y, width, fontSize, lineHeight: TEXT_LINE_HEIGHT, color, whiteSpace: 'nowrap' },
    { children: fitText(text, fontSize, width) },
  );
}

/** Collapses whitespace and drops characters no bundled font can draw (they would be tofu). */
function drawable(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const missing = new Set(missingGlyphs(line));
  return missing.size ? [...line].filter((ch) => !missing.has(ch)).join('').trim() : line;
}

/** The image bytes as their own ArrayBuffer: satori sniffs from offset 0 of the whole buffer. */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}
