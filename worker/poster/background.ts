import { ensureRasterEngine, type Pixels } from './engines';
import { dataUrl, sniffImage, sniffRasterType } from './images';
import { decodeJpeg } from './jpeg';
import { POSTER_HEIGHT, POSTER_WIDTH } from './layout';
import { rasterisePixels } from './raster';

/** Bytes of a background's pixels: opaque RGBA covering the 750×1334 canvas. */
export const BACKGROUND_PIXEL_BYTES = POSTER_WIDTH * POSTER_HEIGHT * 4;

/**
 * Decodes an operator's background into opaque RGBA pixels covering the 750×1334 canvas. Meant
 * to run once per upload: a progressive 750×1334 JPEG leaves ~10–17 MB of short-lived buffers
 * behind in jpeg-js, which is why renders read the stored pixels instead.
 *
 * Fast path: a JPEG whose header says 750×1334 (the poster size, what operators should upload)
 * is decoded by jpeg-js. Anything else — PNG, another size, a JPEG jpeg-js refuses — goes
 * through resvg, which scales it to cover the canvas (centred, cropped) over white: ~0.2 s for a
 * poster-sized image, ~0.6 s for a 12-megapixel photo.
 * @throws when the bytes are neither JPEG nor PNG.
 */
export async function coverPixels(bytes: Uint8Array): Promise<Pixels> {
  const type = sniffRasterType(bytes);
  if (!type) throw new Error('poster: background is neither a JPEG nor a PNG');
  const header = sniffImage(bytes);
  if (header?.type === 'image/jpeg' && header.width === POSTER_WIDTH && header.height === POSTER_HEIGHT) {
    try {
      return decodeJpeg(bytes);
    } catch {
      // A JPEG jpeg-js cannot read still gets its chance with resvg below.
    }
  }
  await ensureRasterEngine();
  return rasterisePixels(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}">` +
      `<rect width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" fill="#ffffff"/>` +
      `<image width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" preserveAspectRatio="xMidYMid slice" href="${dataUrl(bytes, type)}"/>` +
      `</svg>`,
  );
}
