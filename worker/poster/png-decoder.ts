import { createInflate } from 'node:zlib';
import { concat } from '../lib/bytes';
import { newPixels, type PixelOutput, type Pixels } from './engines';
import { ImageError } from './image-error';

// A PNG decoder that never inflates more than the header promises: the image data of a
// width × height picture is exactly its rows' bytes (filter byte + samples, per interlace pass),
// and inflating streams into a buffer of that size and stops at its end, so a few KB that inflate
// to gigabytes fail after the first few MB. Every colour type and bit depth, palettes, tRNS, Adam7; transparency is flattened over white.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel by colour type: grey, -, RGB, palette, grey + alpha, -, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7: where each pass starts and how far it steps, in x and y. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

interface Header {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlaced: boolean;
}

/** Options for {@link decodePng}. */
export interface PngDecodeOptions {
  /** Pictures of more pixels are refused before their data is inflated. */
  maxPixels?: number;
  /** Where the RGBA goes. */
  output?: PixelOutput;
}

/**
 * Decodes PNG bytes to opaque RGBA (transparency over white).
 * @throws ImageError `too_large` past `maxPixels`; `unreadable` for anything that is not a
 * well-formed PNG, including image data that inflates to more or less than its rows.
 */
export async function decodePng(bytes: Uint8Array, options: PngDecodeOptions = {}): Promise<Pixels> {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new ImageError('unreadable', 'PNG: no signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const data: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (body.length !== length) throw new ImageError('unreadable', `PNG: ${type} chunk runs past the end`);
    at += 12 + length;
    if (type === 'IHDR') header = readHeader(body, options.maxPixels ?? Number.POSITIVE_INFINITY);
    else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') transparency = body;
    else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
  }
  if (!header || !data.length) throw new ImageError('unreadable', 'PNG: no header or no image data');
  if (header.colourType === 3 && !palette) throw new ImageError('unreadable', 'PNG: palette image without a palette');
  const bitsPerPixel = CHANNELS[header.colourType] * header.depth;
  const passes = (header.interlaced ? ADAM7 : [[0, 0, 1, 1]]).map(([x0, y0, dx, dy]) => {
    const width = Math.ceil((header.width - x0) / dx);
    const height = Math.ceil((header.height - y0) / dy);
    return { x0, y0, dx, dy, width, height, rowBytes: width && height ? Math.ceil((width * bitsPerPixel) / 8) : 0 };
  });
  const expected = passes.reduce((sum, p) => sum + (p.rowBytes ? p.height * (p.rowBytes + 1) : 0), 0);
  const raw = await inflateExactly(concat(...data), expected);

  const out = (options.output ?? newPixels)(header.width * header.height * 4);
  const pixel = pixelReader(header, palette, transparency);
  const step = Math.max(1, bitsPerPixel >> 3);
  let at = 0;
  for (const p of passes) {
    if (!p.rowBytes) continue;
    for (let y = 0; y < p.height; y++, at += p.rowBytes + 1) {
      unfilter(raw, at, p.rowBytes, y > 0 ? at - p.rowBytes - 1 : -1, step);
      const row = raw.subarray(at + 1, at + 1 + p.rowBytes);
      for (let x = 0; x < p.width; x++) pixel(row, x, out, ((p.y0 + y * p.dy) * header.width + p.x0 + x * p.dx) * 4);
    }
  }
  return { pixels: out, width: header.width, height: header.height };
}

/** The zlib stream inflated into exactly `size` bytes; refused as soon as it yields more, or if it yields less. */
function inflateExactly(data: Uint8Array, size: number): Promise<Uint8Array> {
  // node:zlib's stream: workerd's DecompressionStream leaves an unhandled rejection behind when
  // the data is corrupt, which this reports through its 'error' event only.
  return new Promise((resolve, reject) => {
    const out = new Uint8Array(size);
    let at = 0;
    const inflate = createInflate();
    const refuse = (why: string) => {
      inflate.destroy();
      reject(new ImageError('unreadable', `PNG: image data ${why}`));
    };
    inflate.on('data', (chunk: Uint8Array) => {
      if (at + chunk.byteLength > size) return refuse('inflates past its rows');
      out.set(chunk, at);
      at += chunk.byteLength;
    });
    inflate.on('error', () => refuse('is corrupt'));
    inflate.on('end', () => (at === size ? resolve(out) : refuse('ends early')));
    inflate.end(data);
  });
}

function readHeader(b: Uint8Array, maxPixels: number): Header {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 13) throw new ImageError('unreadable', 'PNG: short header');
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  if (width * height > maxPixels) throw new ImageError('too_large', `PNG of ${width}×${height} pixels`, { width, height });
  const [depth, colourType, compression, filter, interlace] = b.subarray(8, 13);
  if (!width || !height || !DEPTHS[colourType]?.includes(depth) || compression !== 0 || filter !== 0 || interlace > 1)
    throw new ImageError('unreadable', 'PNG: unsupported header');
  return { width, height, depth, colourType, interlaced: interlace === 1 };
}

/** Undoes one row's filter in place (`prior` < 0: the first row of its pass). */
function unfilter(raw: Uint8Array, at: number, length: number, prior: number, step: number): void {
  const type = raw[at];
  const row = at + 1;
  const up = prior + 1;
  if (type > 4) throw new ImageError('unreadable', `PNG: filter type ${type}`);
  for (let i = 0; i < length; i++) {
    const left = i >= step ? raw[row + i - step] : 0;
    const above = prior >= 0 ? raw[up + i] : 0;
    if (type === 1) raw[row + i] += left;
    else if (type === 2) raw[row + i] += above;
    else if (type === 3) raw[row + i] += (left + above) >> 1;
    else if (type === 4) {
      const corner = prior >= 0 && i >= step ? raw[up + i - step] : 0;
      const p = left + above - corner;
      const pa = Math.abs(p - left);
      const pb = Math.abs(p - above);
      const pc = Math.abs(p - corner);
      raw[row + i] += pa <= pb && pa <= pc ? left : pb <= pc ? above : corner;
    }
  }
}

/** Writes pixel `x` of an unfiltered row as opaque RGBA at `o`, over white. */
function pixelReader(h: Header, palette: Uint8Array | null, trns: Uint8Array | null) {
  const { depth, colourType } = h;
  const channels = CHANNELS[colourType];
  const max = (1 << depth) - 1;
  const trnsView = trns && trns.length >= 2 ? new DataView(trns.buffer, trns.byteOffset, trns.byteLength) : null;
  // A sample at full depth: sub-byte samples are packed from the high bits; 16-bit ones are big-endian.
  const sample = (row: Uint8Array, index: number) => {
    if (depth === 8) return row[index];
    if (depth === 16) return (row[index * 2] << 8) | row[index * 2 + 1];
    const bit = index * depth;
    return (row[bit >> 3] >> (8 - depth - (bit & 7))) & max;
  };
  const to8 = (v: number) => (depth === 16 ? v >> 8 : depth === 8 ? v : Math.round((v * 255) / max));
  const blend = (out: Uint8Array, o: number, r: number, g: number, b: number, a: number) => {
    const keep = 255 - a;
    out[o] = (r * a + 255 * keep + 127) / 255;
    out[o + 1] = (g * a + 255 * keep + 127) / 255;
    out[o + 2] = (b * a + 255 * keep + 127) / 255;
    out[o + 3] = 255;
  };
  return (row: Uint8Array, x: number, out: Uint8Array, o: number) => {
    const i = x * channels;
    if (colourType === 3) {
      const index = sample(row, x);
      const a = trns && index < trns.length ? trns[index] : 255;
      blend(out, o, palette![index * 3] ?? 0, palette![index * 3 + 1] ?? 0, palette![index * 3 + 2] ?? 0, a);
    } else if (colourType === 0) {
      const v = sample(row, i);
      const g = to8(v);
      blend(out, o, g, g, g, trnsView && trnsView.getUint16(0) === v ? 0 : 255);
    } else if (colourType === 4) {
      const g = to8(sample(row, i));
      blend(out, o, g, g, g, to8(sample(row, i + 1)));
    } else {
      const r = sample(row, i);
      const g = sample(row, i + 1);
      const b = sample(row, i + 2);
      const keyed =
        colourType === 2 && trnsView && trns!.length >= 6 && trnsView.getUint16(0) === r && trnsView.getUint16(2) === g && trnsView.getUint16(4) === b;
      blend(out, o, to8(r), to8(g), to8(b), colourType === 6 ? to8(sample(row, i + 3)) : keyed ? 0 : 255);
    }
  };
}
