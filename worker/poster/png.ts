import { deflateSync } from 'node:zlib';
import { concat } from '../lib/bytes';
import type { Pixels } from './engines';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Encodes opaque RGBA pixels as an 8-bit RGB PNG. resvg can only encode what it rendered itself,
 * and the poster is composited outside resvg (see render.ts), hence this small encoder.
 * Each row uses the "Sub" filter, which suits photos; zlib runs at level 6 (its default).
 * `dpi` records the print resolution (a pHYs chunk), so the image prints at its intended size.
 */
export function encodePng({ pixels, width, height }: Pixels, dpi?: number): Uint8Array {
  const stride = width * 3 + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    raw[row] = 1; // filter type Sub: each byte minus the same channel of the pixel to its left
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 4;
      const out = row + 1 + x * 3;
      for (let c = 0; c < 3; c++) raw[out + c] = pixels[src + c] - (x > 0 ? pixels[src + c - 4] : 0);
    }
  }

  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, adaptive filtering, no interlace

  const physical = dpi ? [chunk('pHYs', resolution(dpi))] : [];
  return concat(Uint8Array.from(SIGNATURE), chunk('IHDR', header), ...physical, chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array()));
}

/** pHYs data: pixels per metre, the same both ways, unit metre. */
function resolution(dpi: number): Uint8Array {
  const data = new Uint8Array(9);
  const view = new DataView(data.buffer);
  const perMetre = Math.round(dpi / 0.0254);
  view.setUint32(0, perMetre);
  view.setUint32(4, perMetre);
  data[8] = 1;
  return data;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  const table = (crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  }));
  let crc = 0xffffffff;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
