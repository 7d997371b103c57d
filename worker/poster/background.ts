import type { Pixels } from './engines';
import { dataUrl, sniffImage, sniffRasterType } from './images';
import { decodeJpeg } from './jpeg';
import { POSTER_HEIGHT, POSTER_WIDTH } from './layout';
import { rasterisePixels } from './raster';

// Decoded backgrounds by content, least recently used first. All posters of a campaign share one
// background, so warm renders skip decoding; each entry holds 4 MB, hence only two.
const CACHED_BACKGROUNDS = 2;
const decoded = new Map<string, Pixels>();

/**
 * The operator's background as opaque RGBA pixels covering the 750×1334 canvas, from a small
 * per-isolate cache keyed by the bytes' SHA-256. The pixels are shared: read them, never paint on
 * them. The raster engine must be initialised.
 * @throws when the bytes are neither JPEG nor PNG.
 */
export async function backgroundPixels(bytes: Uint8Array): Promise<Pixels> {
  const key = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)).join();
  let pixels = decoded.get(key);
  if (pixels) decoded.delete(key);
  else pixels = decodeBackground(bytes);
  decoded.set(key, pixels);
  if (decoded.size > CACHED_BACKGROUNDS) decoded.delete(decoded.keys().next().value!);
  return pixels;
}

/**
 * Fast path: a JPEG whose header says 750×1334 (the poster size, what operators should upload)
 * is decoded by jpeg-js, ~40 ms. Anything else — PNG, another size, a JPEG jpeg-js refuses — goes
 * through resvg, which scales it to cover the canvas (centred, cropped) over white: ~0.2 s for a
 * poster-sized image, ~0.6 s for a 12-megapixel photo.
 */
function decodeBackground(bytes: Uint8Array): Pixels {
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
  return rasterisePixels(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}">` +
      `<rect width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" fill="#ffffff"/>` +
      `<image width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" preserveAspectRatio="xMidYMid slice" href="${dataUrl(bytes, type)}"/>` +
      `</svg>`,
  );
}
