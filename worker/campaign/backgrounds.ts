import { BACKGROUND_PIXEL_BYTES, coverPixels } from '../poster/background';
import type { PixelOutput, Pixels } from '../poster/engines';
import { type EncodedMcus, parseMcus, serializeMcus } from '../poster/jpeg';
import { POSTER_HEIGHT, POSTER_WIDTH } from '../poster/layout';
import { encodeBackground } from '../poster/render';

/** Where an upload's decoded pixels live in the UPLOADS bucket: next to the upload. */
export const pixelsKey = (uploadKey: string) => `${uploadKey}.rgba`;
/** Where its JPEG-coded MCUs live (posters copy the ones their layers leave alone). */
export const mcusKey = (uploadKey: string) => `${uploadKey}.mcu`;

/** What a render needs of a background: its pixels and, when stored, its coded MCUs. */
export interface Background {
  background: Pixels;
  backgroundMcus: EncodedMcus | null;
}

// Backgrounds by upload key (content-derived, so a key never changes meaning), least recently
// used first. All posters of a campaign share one background, so warm renders skip the 4 MB read;
// each entry holds 4 MB, hence only two. `users` counts the renders holding an entry: only an
// entry nobody holds may have its buffer refilled with another background.
const CACHED_BACKGROUNDS = 2;
interface CachedBackground {
  pixels: Pixels;
  mcus: EncodedMcus | null;
  users: number;
}
const cached = new Map<string, CachedBackground>();

/**
 * Stores an upload's pixels (from `coverPixels`) as raw RGBA, so renders never decode, and its
 * MCUs coded as posters code them (`encodeBackground`), so renders encode only what they paint over.
 */
export async function storeBackground(bucket: R2Bucket, uploadKey: string, { pixels, width, height }: Pixels, mcus: EncodedMcus): Promise<void> {
  await Promise.all([
    bucket.put(pixelsKey(uploadKey), pixels, {
      httpMetadata: { contentType: 'application/octet-stream' },
      customMetadata: { format: 'rgba8', width: String(width), height: String(height) },
    }),
    storeMcus(bucket, uploadKey, mcus),
  ]);
}

async function storeMcus(bucket: R2Bucket, uploadKey: string, mcus: EncodedMcus): Promise<void> {
  await bucket.put(mcusKey(uploadKey), serializeMcus(mcus), { httpMetadata: { contentType: 'application/octet-stream' } });
}

/**
 * Runs `use` with an upload's background, or returns `null` when the upload is gone. Reads the
 * pixels and MCUs stored at upload; an upload without pixels (older than them, or their write
 * failed) is decoded once, and missing MCUs are coded once, and stored for next time. Both are
 * shared through a per-isolate cache and the pixels may be reused for another background once
 * `use` settles: pass them to `renderPoster` inside `use`, and keep nothing of them.
 */
export async function withBackground<T>(bucket: R2Bucket, uploadKey: string, use: (background: Background) => Promise<T>): Promise<T | null> {
  let entry = cached.get(uploadKey);
  if (!entry) {
    const [pixels, mcus] = await Promise.all([readPixels(bucket, uploadKey), readMcus(bucket, uploadKey)]);
    const found = pixels ? { pixels, mcus: mcus ?? (await codeMcus(bucket, uploadKey, pixels)) } : await decodeUpload(bucket, uploadKey);
    if (!found) return null;
    entry = { ...found, users: 0 };
  }
  cacheEntry(uploadKey, entry);
  entry.users++;
  try {
    return await use({ background: entry.pixels, backgroundMcus: entry.mcus });
  } finally {
    entry.users--;
  }
}

/** Makes an upload's background the most recently used (and drops the least recently used past the limit). */
function cacheEntry(uploadKey: string, entry: CachedBackground): void {
  cached.delete(uploadKey);
  cached.set(uploadKey, entry);
  if (cached.size > CACHED_BACKGROUNDS) cached.delete(cached.keys().next().value!);
}

/** Caches a background just decoded at upload: the campaign's posters will render from it next. */
export function cacheBackground(uploadKey: string, background: Pixels, mcus: EncodedMcus): void {
  if (!cached.has(uploadKey)) cacheEntry(uploadKey, { pixels: background, mcus, users: 0 });
}

/**
 * Buffers for decoded backgrounds: a poster-sized one refills the buffer of the least recently
 * used cached background when nobody renders from it, as {@link cacheBackground} is about to
 * drop it; other sizes (pictures still to be scaled) are new.
 */
export const backgroundOutput: PixelOutput = (bytes) => new Uint8Array((bytes === BACKGROUND_PIXEL_BYTES && spareBuffer()) || new ArrayBuffer(bytes));

async function readMcus(bucket: R2Bucket, uploadKey: string): Promise<EncodedMcus | null> {
  const obj = await bucket.get(mcusKey(uploadKey));
  return obj && parseMcus(new Uint8Array(await obj.arrayBuffer()));
}

/** Codes a background's MCUs for an upload stored without them; a failed write only means coding again next time. */
async function codeMcus(bucket: R2Bucket, uploadKey: string, pixels: Pixels): Promise<EncodedMcus> {
  const mcus = encodeBackground(pixels);
  await storeMcus(bucket, uploadKey, mcus).catch((e) => console.error('storing background MCUs failed', uploadKey, e));
  return mcus;
}

/**
 * The buffer of the least recently used background, taken out of the cache, when the cache is
 * full and no render holds it: refilling it instead of allocating leaves no 4 MB of garbage per
 * cache miss or upload, which V8 collects late (ArrayBuffer memory lives outside its heap).
 */
function spareBuffer(): ArrayBuffer | undefined {
  if (cached.size < CACHED_BACKGROUNDS) return undefined;
  const [key, oldest] = cached.entries().next().value!;
  const buffer = oldest.pixels.pixels.buffer;
  if (oldest.users > 0 || !(buffer instanceof ArrayBuffer) || buffer.byteLength !== BACKGROUND_PIXEL_BYTES) return undefined;
  cached.delete(key);
  return buffer;
}

async function readPixels(bucket: R2Bucket, uploadKey: string): Promise<Pixels | null> {
  const obj = await bucket.get(pixelsKey(uploadKey));
  if (!obj) return null;
  if (obj.size !== BACKGROUND_PIXEL_BYTES) {
    // A truncated object is as good as none: the upload is decoded again. (Drained rather than
    // cancelled, which workerd logs as a broken pump.)
    await obj.arrayBuffer();
    return null;
  }
  return { pixels: await readExactly(obj.body, backgroundOutput(BACKGROUND_PIXEL_BYTES).buffer as ArrayBuffer), width: POSTER_WIDTH, height: POSTER_HEIGHT };
}

/** Reads a body of exactly the buffer's size into that buffer, without gathering chunks first. */
async function readExactly(body: ReadableStream<Uint8Array>, into: ArrayBuffer): Promise<Uint8Array> {
  const size = into.byteLength;
  const reader = body.getReader({ mode: 'byob' });
  // Each read transfers the buffer: the one to fill next is the one the read gave back.
  let buffer = into;
  let filled = 0;
  while (filled < size) {
    const { value, done } = await reader.read(new Uint8Array(buffer, filled, size - filled));
    if (done || !value) break;
    buffer = value.buffer as ArrayBuffer;
    filled += value.byteLength;
  }
  reader.releaseLock();
  if (filled !== size) throw new Error(`background pixels: read ${filled} of ${size} bytes`);
  return new Uint8Array(buffer);
}

async function decodeUpload(bucket: R2Bucket, uploadKey: string): Promise<{ pixels: Pixels; mcus: EncodedMcus } | null> {
  const obj = await bucket.get(uploadKey);
  if (!obj) return null;
  const pixels = await coverPixels(new Uint8Array(await obj.arrayBuffer()), backgroundOutput);
  const mcus = encodeBackground(pixels);
  // The poster can be rendered without them: a failed write only means decoding again next time.
  await storeBackground(bucket, uploadKey, pixels, mcus).catch((e) => console.error('storing background pixels failed', uploadKey, e));
  return { pixels, mcus };
}
