import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A PNG of 8-bit samples of one colour type (0 grey, 2 RGB), from its filtered rows. */
function pngFile(width: number, height: number, colourType: 0 | 2, raw: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, colourType, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Encodes RGB pixels as a PNG (enough for the sandbox's avatars and fixtures). */
export function encodePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), y * (width * 3 + 1) + 1 + x * 3);
  }
  return pngFile(width, height, 2, raw);
}

/** A 132×132 avatar whose colours derive from `seed`: a face-like disc on a tinted ground. */
export function avatarPng(seed: string): Buffer {
  let h = 0;
  for (const ch of seed) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const bg: [number, number, number] = [80 + (h % 150), 80 + ((h >> 8) % 150), 80 + ((h >> 16) % 150)];
  return encodePng(132, 132, (x, y) => {
    const d = Math.hypot(x - 66, y - 60);
    return d < 34 ? [250, 220, 190] : Math.hypot(x - 66, y - 150) < 60 ? [255, 255, 255] : bg;
  });
}

/**
 * A valid grey PNG of `width`×`height` black pixels: a few KB of deflated zeros that decode to
 * width × height bytes (a "pixel bomb" when the size is large).
 */
export function blackPng(width: number, height: number): Buffer {
  return pngFile(width, height, 0, Buffer.alloc((width + 1) * height));
}
