import { coverResize, decodeOpaque } from './cover';
import { ensureRasterEngine, type Pixels } from './engines';
import { dataUrl, sniffRasterType } from './images';
import { POSTER_HEIGHT, POSTER_WIDTH } from './layout';
import { rasterisePixels } from './raster';

/** Bytes of a background's pixels: opaque RGBA covering the 750×1334 canvas. */
export const BACKGROUND_PIXEL_BYTES = POSTER_WIDTH * POSTER_HEIGHT * 4;

/**
 * Decodes an operator's background into opaque RGBA pixels covering the 750×1334 canvas (centred,
 * cropped, transparency over white). Meant to run once per upload: a progressive 750×1334 JPEG
 * leaves ~10–17 MB of short-lived buffers behind in jpeg-js, which is why renders read the stored
 * pixels instead.
 *
 * Decoding and scaling are plain JavaScript (jpeg-js, fast-png, a tent filter), whose memory V8
 * collects. resvg decoded other sizes before and its wasm memory kept ~9 bytes per pixel for the
 * isolate's life; it is now only the fallback for the rare files those decoders cannot read.
 * @throws when the bytes are neither JPEG nor PNG.
 */
export async function coverPixels(bytes: Uint8Array): Promise<Pixels> {
  const type = sniffRasterType(bytes);
  if (!type) throw new Error('poster: background is neither a JPEG nor a PNG');
  const decoded = decodeOpaque(bytes, type);
  if (decoded) return decoded.width === POSTER_WIDTH && decoded.height === POSTER_HEIGHT ? decoded : coverResize(decoded, POSTER_WIDTH, POSTER_HEIGHT);
  await ensureRasterEngine();
  return rasterisePixels(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}">` +
      `<rect width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" fill="#ffffff"/>` +
      `<image width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" preserveAspectRatio="xMidYMid slice" href="${dataUrl(bytes, type)}"/>` +
      `</svg>`,
  );
}
