import { BACKGROUND_PIXEL_BYTES, coverPixels } from '../poster/background';
import type { Pixels } from '../poster/engines';
import { POSTER_HEIGHT, POSTER_WIDTH } from '../poster/layout';

/** Where an upload's decoded pixels live in the UPLOADS bucket: next to the upload. */
export const pixelsKey = (uploadKey: string) => `${uploadKey}.rgba`;

// Backgrounds by upload key (content-derived, so a key never changes meaning), least recently
// used first. All posters of a campaign share one background, so warm renders skip the 4 MB read;
// each entry holds 4 MB, hence only two.
const CACHED_BACKGROUNDS = 2;
const cached = new Map<string, Pixels>();

/** Stores an upload's pixels (from `coverPixels`) as raw RGBA, so renders never decode. */
export async function storeBackgroundPixels(bucket: R2Bucket, uploadKey: string, { pixels, width, height }: Pixels): Promise<void> {
  await bucket.put(pixelsKey(uploadKey), pixels, {
    httpMetadata: { contentType: 'application/octet-stream' },
    customMetadata: { format: 'rgba8', width: String(width), height: String(height) },
  });
}

/**
 * An upload's background pixels for the renderer, or `null` when the upload is gone. Reads the
 * pixels stored at upload; an upload without them (older than them, or their write failed) is
 * decoded once and they are stored for next time. The result is shared through a per-isolate
 * cache: pass it to `renderPoster`, never paint on it otherwise.
 */
export async function loadBackground(bucket: R2Bucket, uploadKey: string): Promise<Pixels | null> {
  let pixels = cached.get(uploadKey) ?? null;
  if (pixels) cached.delete(uploadKey);
  else pixels = (await readPixels(bucket, uploadKey)) ?? (await decodeUpload(bucket, uploadKey));
  if (!pixels) return null;
  cached.set(uploadKey, pixels);
  if (cached.size > CACHED_BACKGROUNDS) cached.delete(cached.keys().next().value!);
  return pixels;
}

async function readPixels(bucket: R2Bucket, uploadKey: string): Promise<Pixels | null> {
  const obj = await bucket.get(pixelsKey(uploadKey));
  if (!obj) return null;
  const pixels = new Uint8Array(await obj.arrayBuffer());
  // A truncated object is as good as none: the upload is decoded again.
  return pixels.byteLength === BACKGROUND_PIXEL_BYTES ? { pixels, width: POSTER_WIDTH, height: POSTER_HEIGHT } : null;
}

async function decodeUpload(bucket: R2Bucket, uploadKey: string): Promise<Pixels | null> {
  const obj = await bucket.get(uploadKey);
  if (!obj) return null;
  const pixels = await coverPixels(new Uint8Array(await obj.arrayBuffer()));
  // The poster can be rendered without them: a failed write only means decoding again next time.
  await storeBackgroundPixels(bucket, uploadKey, pixels).catch((e) => console.error('storing background pixels failed', uploadKey, e));
  return pixels;
}
