import { decodeJpeg, type Pixels } from './engines';
import { dataUrl, sniffRasterType } from './images';
import { POSTER_HEIGHT, POSTER_WIDTH } from './layout';
import { rasterisePixels } from './raster';

/**
 * The operator's background as opaque RGBA pixels covering the 750×1334 canvas.
 *
 * Fast path: a JPEG already 750×1334 (the poster size, what operators should upload) is decoded
 * by mozjpeg, ~15 ms. Anything else — PNG, another size, a JPEG libjpeg refuses — goes through
 * resvg, which scales it to cover the canvas (centred, cropped) over white: ~0.2 s for a
 * poster-sized image, ~0.6 s for a 12-megapixel photo.
 * The raster engine must be initialised.
 * @throws when the bytes are neither JPEG nor PNG.
 */
export async function backgroundPixels(bytes: Uint8Array): Promise<Pixels> {
  const type = sniffRasterType(bytes);
  if (!type) throw new Error('poster: background is neither a JPEG nor a PNG');
  if (type === 'image/jpeg') {
    // A JPEG mozjpeg cannot read (CMYK, say) still gets its chance with resvg below.
    const decoded = await decodeJpeg(bytes).catch(() => null);
    if (decoded && decoded.width === POSTER_WIDTH && decoded.height === POSTER_HEIGHT) return decoded;
  }
  return rasterisePixels(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}">` +
      `<rect width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" fill="#ffffff"/>` +
      `<image width="${POSTER_WIDTH}" height="${POSTER_HEIGHT}" preserveAspectRatio="xMidYMid slice" href="${dataUrl(bytes, type)}"/>` +
      `</svg>`,
  );
}
