import { POSTER_HEIGHT, POSTER_WIDTH } from '$poster-layout';

/** Pictures the browser is asked to decode at most (a phone photo is 3–10 MB). */
export const MAX_SOURCE_BYTES = 25 * 1024 * 1024;

/**
 * Crops and scales a picture to the poster canvas in the browser, the way the worker would
 * (centred, covering, transparency over white), and encodes it as a JPEG. A phone photo then
 * uploads as ~200 KB the worker decodes cheaply, instead of megapixels it refuses (its wasm
 * decoder would keep the memory). A 750×1334 JPEG within the size limit goes up untouched.
 * @returns the file to upload and whether it was cropped.
 */
export async function fitToPoster(file: File, maxBytes: number): Promise<{ file: File; cropped: boolean }> {
  const bitmap = await createImageBitmap(file);
  try {
    if (bitmap.width === POSTER_WIDTH && bitmap.height === POSTER_HEIGHT && file.type === 'image/jpeg' && file.size <= maxBytes) {
      return { file, cropped: false };
    }
    const canvas = document.createElement('canvas');
    canvas.width = POSTER_WIDTH;
    canvas.height = POSTER_HEIGHT;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('canvas unavailable');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, POSTER_WIDTH, POSTER_HEIGHT);
    const scale = Math.max(POSTER_WIDTH / bitmap.width, POSTER_HEIGHT / bitmap.height);
    const [w, h] = [bitmap.width * scale, bitmap.height * scale];
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, (POSTER_WIDTH - w) / 2, (POSTER_HEIGHT - h) / 2, w, h);
    const blob = await new Promise<Blob | null>((done) => canvas.toBlob(done, 'image/jpeg', 0.9));
    if (!blob) throw new Error('JPEG encoding failed');
    return { file: new File([blob], `${file.name.replace(/\.[^.]*$/, '')}.jpg`, { type: 'image/jpeg' }), cropped: true };
  } finally {
    bitmap.close();
  }
}
