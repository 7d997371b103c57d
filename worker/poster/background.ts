import { coverResize } from './cover';
import type { PixelOutput, Pixels } from './engines';
import { decodeImage } from './images';
import { POSTER_HEIGHT, POSTER_WIDTH } from './layout';

/** Bytes of a background's pixels: opaque RGBA covering the 750×1334 canvas. */
export const BACKGROUND_PIXEL_BYTES = POSTER_WIDTH * POSTER_HEIGHT * 4;

/**
 * Pixels a background may have: decoding and scaling one holds ~8 bytes per pixel at once (12 MB
 * of pixels and 13 MB of scaling rows at 3 MP), in an isolate allowed 128 MB, and a 2 MB JPEG can
 * hold 16 MP. The admin crops pictures to the poster size in the browser before uploading, so
 * operators do not meet this.
 */
export const MAX_BACKGROUND_PIXELS = 3_000_000;

/**
 * Decodes an operator's background into opaque RGBA pixels covering the 750×1334 canvas (centred,
 * cropped, transparency over white). Meant to run once per upload; renders read the stored pixels.
 * Decoding and scaling are plain JavaScript (our JPEG and PNG decoders, a tent filter), whose
 * memory V8 collects: a wasm decoder would keep every byte it grew for the isolate's life.
 * `output` gives the buffers for the decoded and the scaled pixels.
 * @throws ImageError when the bytes do not decode, or hold more than MAX_BACKGROUND_PIXELS.
 */
export async function coverPixels(bytes: Uint8Array, output?: PixelOutput): Promise<Pixels> {
  const decoded = await decodeImage(bytes, MAX_BACKGROUND_PIXELS, output);
  return decoded.width === POSTER_WIDTH && decoded.height === POSTER_HEIGHT ? decoded : coverResize(decoded, POSTER_WIDTH, POSTER_HEIGHT, output);
}
