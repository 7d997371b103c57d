import { Resvg } from '@resvg/resvg-wasm';
import type { Pixels } from './engines';

type ResvgImage = ReturnType<InstanceType<typeof Resvg>['render']>;

/**
 * Runs resvg on an SVG document and hands the result to `read`, freeing resvg's wasm-side memory
 * whatever `read` does. The raster engine must be initialised.
 */
export function rasterise<T>(svg: string, read: (image: ResvgImage) => T): T {
  // Satori already turned text into paths, so resvg needs no fonts at all.
  const resvg = new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: false } });
  try {
    const image = resvg.render();
    try {
      return read(image);
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}

/** resvg's output as pixels. Note resvg's RGBA is premultiplied by alpha. */
export function rasterisePixels(svg: string): Pixels {
  return rasterise(svg, (image) => ({ pixels: image.pixels, width: image.width, height: image.height }));
}

/** Pixels placed on a canvas with their top-left corner at (x, y). */
export interface Layer extends Pixels {
  x: number;
  y: number;
  /** Every pixel has alpha 255 (e.g. the QR code): painted by copying rows. */
  opaque?: boolean;
}

/**
 * Copies the part of `canvas` under `box` and returns a function that puts it back, for painting
 * on a canvas temporarily.
 */
export function saveBox(canvas: Pixels, box: Layer): () => void {
  const left = Math.max(0, box.x);
  const top = Math.max(0, box.y);
  const rowBytes = (Math.min(canvas.width, box.x + box.width) - left) * 4;
  const rows = Math.min(canvas.height, box.y + box.height) - top;
  if (rowBytes <= 0 || rows <= 0) return () => undefined;
  const saved = new Uint8Array(rowBytes * rows);
  const start = (row: number) => ((top + row) * canvas.width + left) * 4;
  for (let row = 0; row < rows; row++) saved.set(canvas.pixels.subarray(start(row), start(row) + rowBytes), row * rowBytes);
  return () => {
    for (let row = 0; row < rows; row++) canvas.pixels.set(saved.subarray(row * rowBytes, (row + 1) * rowBytes), start(row));
  };
}

/**
 * Paints a premultiplied-alpha layer over an opaque image, in place, clipped to the image:
 * dst = src + dst × (1 − srcAlpha), the Porter-Duff "over" for premultiplied colour. With `touched`,
 * marks there the 16×16 block of every pixel it changes (for the JPEG encoder's MCU reuse).
 */
export function paintOver(dst: Pixels, src: Layer, touched?: Uint8Array): void {
  const d = dst.pixels;
  const s = src.pixels;
  const left = Math.max(0, -src.x);
  const right = Math.min(src.width, dst.width - src.x);
  const top = Math.max(0, -src.y);
  const bottom = Math.min(src.height, dst.height - src.y);
  const blocksPerRow = Math.ceil(dst.width / 16);
  if (right <= left || bottom <= top) return;
  if (src.opaque) {
    for (let row = top; row < bottom; row++) {
      const from = (row * src.width + left) * 4;
      d.set(s.subarray(from, from + (right - left) * 4), ((src.y + row) * dst.width + src.x + left) * 4);
      if (touched)
        touched.fill(1, ((src.y + row) >> 4) * blocksPerRow + ((src.x + left) >> 4), ((src.y + row) >> 4) * blocksPerRow + ((src.x + right - 1) >> 4) + 1);
    }
    return;
  }
  for (let row = top; row < bottom; row++) {
    const blockRow = ((src.y + row) >> 4) * blocksPerRow;
    for (let col = left; col < right; col++) {
      const j = (row * src.width + col) * 4;
      const alpha = s[j + 3];
      if (alpha === 0) continue;
      const i = ((src.y + row) * dst.width + src.x + col) * 4;
      if (touched) touched[blockRow + ((src.x + col) >> 4)] = 1;
      if (alpha === 255) {
        d[i] = s[j];
        d[i + 1] = s[j + 1];
        d[i + 2] = s[j + 2];
      } else {
        const keep = 255 - alpha;
        d[i] = (s[j] + (d[i] * keep + 127) / 255) | 0;
        d[i + 1] = (s[j + 1] + (d[i + 1] * keep + 127) / 255) | 0;
        d[i + 2] = (s[j + 2] + (d[i + 2] * keep + 127) / 255) | 0;
      }
      d[i + 3] = 255;
    }
  }
}
