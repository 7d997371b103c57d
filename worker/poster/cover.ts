import { newPixels, type PixelOutput, type Pixels } from './engines';

/** Per destination index along one axis: the first source index and the weights from there. */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  taps: number;
}

/**
 * Tent-filter weights mapping `srcLen` source pixels onto `dstLen` destination pixels at `scale`,
 * skipping `offset` scaled pixels (the centred crop). Shrinking widens the tent to 1 / scale source
 * pixels, so every source pixel counts (no aliasing); enlarging is plain bilinear.
 */
function axisWeights(srcLen: number, dstLen: number, scale: number, offset: number): AxisWeights {
  const radius = Math.max(1, 1 / scale);
  const taps = Math.ceil(radius) * 2 + 1;
  const first = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const weights = new Float32Array(dstLen * taps);
  for (let x = 0; x < dstLen; x++) {
    const centre = (x + 0.5 + offset) / scale - 0.5;
    const lo = Math.max(0, Math.ceil(centre - radius));
    const hi = Math.min(srcLen - 1, Math.floor(centre + radius));
    let sum = 0;
    for (let i = lo; i <= hi; i++) sum += weights[x * taps + i - lo] = Math.max(0, 1 - Math.abs(i - centre) / radius);
    // Past an edge (nothing under the tent), the nearest source pixel.
    if (sum === 0) {
      first[x] = Math.min(srcLen - 1, Math.max(0, Math.round(centre)));
      count[x] = 1;
      weights[x * taps] = 1;
      continue;
    }
    for (let k = 0; k <= hi - lo; k++) weights[x * taps + k] /= sum;
    first[x] = lo;
    count[x] = hi - lo + 1;
  }
  return { first, count, weights, taps };
}

/** Where one axis pass reads and writes: offsets of the next pixel along the axis and of the next line. */
interface Layout {
  base: number;
  pixel: number;
  line: number;
}

/**
 * Resamples `lines` lines along one axis, RGB only: each output pixel is its weights times the
 * input pixels from `first`. The layouts make the same loop serve rows and columns.
 */
function resamplePass(
  input: Uint8Array | Float32Array,
  from: Layout,
  axis: AxisWeights,
  lines: number,
  output: Float32Array | Uint8ClampedArray,
  to: Layout,
): void {
  for (let l = 0; l < lines; l++) {
    for (let d = 0; d < axis.first.length; d++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < axis.count[d]; k++) {
        const w = axis.weights[d * axis.taps + k];
        const i = from.base + l * from.line + (axis.first[d] + k) * from.pixel;
        r += input[i] * w;
        g += input[i + 1] * w;
        b += input[i + 2] * w;
      }
      const o = to.base + l * to.line + d * to.pixel;
      output[o] = r;
      output[o + 1] = g;
      output[o + 2] = b;
    }
  }
}

/**
 * Scales and crops opaque pixels to cover a `width` × `height` canvas, centred: what CSS
 * `object-fit: cover` and SVG `xMidYMid slice` show, in two separable passes.
 */
export function coverResize(src: Pixels, width: number, height: number, output: PixelOutput = newPixels): Pixels {
  const scale = Math.max(width / src.width, height / src.height);
  const xs = axisWeights(src.width, width, scale, (src.width * scale - width) / 2);
  const ys = axisWeights(src.height, height, scale, (src.height * scale - height) / 2);
  // Only the source rows the vertical pass reads are resized horizontally (RGB, unrounded).
  const rowLo = ys.first[0];
  const rows = ys.first[height - 1] + ys.count[height - 1] - rowLo;
  const mid = new Float32Array(rows * width * 3);
  resamplePass(src.pixels, { base: rowLo * src.width * 4, pixel: 4, line: src.width * 4 }, xs, rows, mid, { base: 0, pixel: 3, line: width * 3 });
  const out = output(width * height * 4).fill(255);
  // Written through a clamped view, which rounds.
  resamplePass(mid, { base: -rowLo * width * 3, pixel: width * 3, line: 3 }, ys, width, new Uint8ClampedArray(out.buffer), {
    base: 0,
    pixel: width * 4,
    line: 4,
  });
  return { pixels: out, width, height };
}
