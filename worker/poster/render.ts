import satori from 'satori/standalone';
import { backgroundPixels } from './background';
import { encodeJpeg, ensureLayoutEngine, ensureRasterEngine, type Pixels } from './engines';
import { POSTER_FONT_FAMILY, POSTER_FONTS, fitText, missingGlyphs } from './fonts';
import { DEFAULT_AVATAR_SVG, isDecodable, svgDataUrl } from './images';
import { DEFAULT_LAYOUT, POSTER_HEIGHT, POSTER_WIDTH, TEXT_LINE_HEIGHT, type PosterLayout } from './layout';
import { encodePng } from './png';
import { qrSvg } from './qr';
import { paintOver, rasterise, rasterisePixels } from './raster';

export type { Pixels } from './engines';

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

/** Product budget for a poster served to phones. */
export const MAX_JPEG_BYTES = 300 * 1024;
// mozjpeg quality steps: 80 keeps text and QR edges clean and lands around 100 KB on a photo;
// the lower steps only run for backgrounds noisy enough to blow the budget (35 fits even pure
// noise).
const JPEG_QUALITIES = [80, 65, 50, 35];

const DEFAULT_AVATAR_URL = svgDataUrl(DEFAULT_AVATAR_SVG);

/** Satori element tree as plain objects (satori's JSX shape), so no JSX runtime is needed. */
type Node = { type: string; props: Record<string, unknown> };
const el = (type: string, style: Record<string, unknown>, props: Record<string, unknown> = {}): Node => ({
  type,
  props: { ...props, style },
});

/**
 * Lays out everything personal — avatar, nickname, QR code, rule — with satori on a transparent
 * canvas and returns the SVG, text already converted to glyph outlines. The background is not in
 * it: resvg decodes JPEGs ~10× slower than mozjpeg, so the background is decoded separately and
 * the rasterised overlay painted on top (see {@link renderPosterPixels}).
 */
export async function renderOverlaySvg(input: PosterInput): Promise<string> {
  // The avatar probe needs resvg; both engines are needed for any poster anyway.
  await Promise.all([ensureLayoutEngine(), ensureRasterEngine()]);
  const { avatar, nickname, qr, rule } = input.layout ?? DEFAULT_LAYOUT;

  const children: Node[] = [
    el(
      'img',
      { position: 'absolute', left: avatar.x, top: avatar.y, width: avatar.size, height: avatar.size, borderRadius: avatar.size / 2, objectFit: 'cover' },
      // Raw bytes (a buffer of their own: satori sniffs from offset 0) rather than a data: URL,
      // because satori caches resolved data: URLs, 500 deep, which would pin fans' avatars in memory.
      { src: input.avatar && isDecodable(input.avatar) ? input.avatar.slice().buffer : DEFAULT_AVATAR_URL },
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
    { display: 'flex', position: 'relative', width: POSTER_WIDTH, height: POSTER_HEIGHT, fontFamily: POSTER_FONT_FAMILY },
    { children },
  );
  try {
    return await satori(root, { width: POSTER_WIDTH, height: POSTER_HEIGHT, fonts: POSTER_FONTS });
  } catch (cause) {
    throw new Error(`poster: satori could not lay out the poster: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The finished poster as opaque RGBA pixels (750×1334): background with the overlay painted on. */
export async function renderPosterPixels(input: PosterInput): Promise<Pixels> {
  const svg = await renderOverlaySvg(input);
  const canvas = await backgroundPixels(input.background);
  paintOver(canvas, rasterisePixels(svg));
  return canvas;
}

/**
 * Renders one fan's poster as a JPEG (mozjpeg, ≤ 300 KB) or PNG.
 * @throws when the background is neither JPEG nor PNG, or the QR content is too long for one
 * code; a missing or broken avatar is not an error (the default avatar is drawn).
 */
export async function renderPoster(input: PosterInput): Promise<RenderedImage> {
  const canvas = await renderPosterPixels(input);
  const { width, height } = canvas;
  if (input.format === 'png') return { bytes: encodePng(canvas), contentType: 'image/png', width, height };

  let bytes: Uint8Array = new Uint8Array();
  for (const quality of JPEG_QUALITIES) {
    bytes = await encodeJpeg(canvas, quality);
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
