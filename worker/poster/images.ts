import type { PixelOutput, Pixels } from './engines';
import { ImageError } from './image-error';
import { decodeJpeg } from './jpeg-decoder';
import { decodePng } from './png-decoder';

/** The image formats a poster accepts for its background and avatar. */
export type RasterType = 'image/jpeg' | 'image/png';

/** Detects JPEG/PNG by magic bytes; `null` for anything else. */
export function sniffRasterType(bytes: Uint8Array): RasterType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  return null;
}

/** An image's format and size in px, as its header states them. */
export interface ImageInfo {
  type: RasterType;
  width: number;
  height: number;
}

/** Identifies a PNG or JPEG by its bytes (never by name or declared type) and reads its size. */
export function sniffImage(b: Uint8Array): ImageInfo | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length > 24 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x)) {
    return { type: 'image/png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    // Walk the segments to the frame header (SOF0..SOF15, except DHT/JPG/DAC) for the size.
    for (let i = 2; i + 9 < b.length; ) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
        i += marker === 0xff ? 1 : 2;
        continue;
      }
      const len = view.getUint16(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { type: 'image/jpeg', height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      }
      i += 2 + len;
    }
  }
  return null;
}

/**
 * Stand-in avatar for fans without one (or with an unreadable one): a grey head-and-shoulders
 * silhouette on a 132-unit square, as SVG shapes, so nothing is fetched or shipped as a binary.
 */
export const DEFAULT_AVATAR_SHAPES =
  '<rect width="132" height="132" fill="#d5dae1"/>' +
  '<circle cx="66" cy="54" r="25" fill="#f7f8fa"/>' +
  '<path d="M20 132c2-30 21-46 46-46s44 16 46 46z" fill="#f7f8fa"/>';

/**
 * Decodes a JPEG or PNG to opaque RGBA (transparency over white) with our own decoders, which
 * refuse any frame of more than `maxPixels` before allocating for it and never inflate past the
 * header's size; there is no fallback decoder. The RGBA goes to `output` (by default a new buffer).
 * @throws ImageError: `too_large`, or `unreadable` for anything else they cannot decode.
 */
export async function decodeImage(bytes: Uint8Array, maxPixels: number, output?: PixelOutput): Promise<Pixels> {
  const type = sniffRasterType(bytes);
  if (type === 'image/jpeg') return decodeJpeg(bytes, { maxPixels, output });
  if (type === 'image/png') return decodePng(bytes, { maxPixels, output });
  throw new ImageError('unreadable', 'neither a JPEG nor a PNG');
}
