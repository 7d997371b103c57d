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

/**
 * Paints a premultiplied-alpha layer over an opaque image of the same size, in place:
 * dst = src + dst × (1 − srcAlpha), the Porter-Duff "over" for premultiplied colour.
 */
export function paintOver(dst: Pixels, src: Pixels): void {
  if (dst.width !== src.width || dst.height !== src.height) {
    throw new Error(`poster: cannot paint a ${src.width}×${src.height} layer over ${dst.width}×${dst.height}`);
  }
  const d = dst.pixels;
  const s = src.pixels;
  for (let i = 0; i < d.length; i += 4) {
    const alpha = s[i + 3];
    if (alpha === 0) continue;
    if (alpha === 255) {
      d[i] = s[i];
      d[i + 1] = s[i + 1];
      d[i + 2] = s[i + 2];
    } else {
      const keep = 255 - alpha;
      d[i] = (s[i] + (d[i] * keep + 127) / 255) | 0;
      d[i + 1] = (s[i + 1] + (d[i + 1] * keep + 127) / 255) | 0;
      d[i + 2] = (s[i + 2] + (d[i + 2] * keep + 127) / 255) | 0;
    }
    d[i + 3] = 255;
  }
}
