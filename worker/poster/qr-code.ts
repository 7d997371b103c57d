// A QR code encoder (ISO/IEC 18004) for what posters need: byte mode, error correction level M,
// versions 1–40. Written for a fresh isolate's first poster: the matrix is one Uint8Array and the
// eight masks are scored on it directly (the library it replaces spent ~50 ms of a cold render
// calling a closure per module to score them).

/** Per version, level M: [blocks, codewords per block, data codewords per block], a second group when there is one. */
const BLOCKS_M = [
  [1, 26, 16],
  [1, 44, 28],
  [1, 70, 44],
  [2, 50, 32],
  [2, 67, 43],
  [4, 43, 27],
  [4, 49, 31],
  [2, 60, 38, 2, 61, 39],
  [3, 58, 36, 2, 59, 37],
  [4, 69, 43, 1, 70, 44],
  [1, 80, 50, 4, 81, 51],
  [6, 58, 36, 2, 59, 37],
  [8, 59, 37, 1, 60, 38],
  [4, 64, 40, 5, 65, 41],
  [5, 65, 41, 5, 66, 42],
  [7, 73, 45, 3, 74, 46],
  [10, 74, 46, 1, 75, 47],
  [9, 69, 43, 4, 70, 44],
  [3, 70, 44, 11, 71, 45],
  [3, 67, 41, 13, 68, 42],
  [17, 68, 42],
  [17, 74, 46],
  [4, 75, 47, 14, 76, 48],
  [6, 73, 45, 14, 74, 46],
  [8, 75, 47, 13, 76, 48],
  [19, 74, 46, 4, 75, 47],
  [22, 73, 45, 3, 74, 46],
  [3, 73, 45, 23, 74, 46],
  [21, 73, 45, 7, 74, 46],
  [19, 75, 47, 10, 76, 48],
  [2, 74, 46, 29, 75, 47],
  [10, 74, 46, 23, 75, 47],
  [14, 74, 46, 21, 75, 47],
  [14, 74, 46, 23, 75, 47],
  [12, 75, 47, 26, 76, 48],
  [6, 75, 47, 34, 76, 48],
  [29, 74, 46, 14, 75, 47],
  [13, 74, 46, 32, 75, 47],
  [40, 75, 47, 7, 76, 48],
  [18, 75, 47, 31, 76, 48],
];

/** Level M's two format bits (L 01, M 00, Q 11, H 10). */
const LEVEL_M = 0;

/** A QR code: `size`×`size` modules, row-major, 1 = dark. */
export interface QrMatrix {
  size: number;
  modules: Uint8Array;
}

/**
 * Encodes `data` in byte mode at level M, in the smallest version it fits, with the mask of the
 * lowest penalty (ISO 18004 §8.8.2).
 * @throws when the data does not fit in version 40 (2,331 bytes).
 */
export function encodeQr(data: Uint8Array): QrMatrix {
  let version = 1;
  while (version <= 40 && 4 + (version < 10 ? 8 : 16) + 8 * data.length > 8 * dataCapacity(version)) version++;
  if (version > 40) throw new RangeError(`QR: ${data.length} bytes do not fit in one code`);
  const codewords = withErrorCorrection(version, dataCodewords(version, data));
  const size = 17 + 4 * version;
  const { modules, reserved } = functionPatterns(version);
  placeData(modules, reserved, size, codewords);
  let best: Uint8Array | null = null;
  let bestPenalty = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    const candidate = modules.slice();
    applyMask(candidate, reserved, size, mask);
    drawFormat(candidate, size, mask);
    const score = penalty(candidate, size);
    if (score < bestPenalty) [best, bestPenalty] = [candidate, score];
  }
  return { size, modules: best! };
}

function groups(version: number): { count: number; total: number; data: number }[] {
  const row = BLOCKS_M[version - 1];
  const out = [{ count: row[0], total: row[1], data: row[2] }];
  if (row.length > 3) out.push({ count: row[3], total: row[4], data: row[5] });
  return out;
}

function dataCapacity(version: number): number {
  return groups(version).reduce((n, g) => n + g.count * g.data, 0);
}

/** Mode, count, the bytes, a terminator, then the pad codewords 0xEC 0x11 to the version's capacity. */
function dataCodewords(version: number, data: Uint8Array): Uint8Array {
  const capacity = dataCapacity(version);
  const out = new Uint8Array(capacity);
  let bit = 0;
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--, bit++) if ((value >>> i) & 1) out[bit >> 3] |= 0x80 >> (bit & 7);
  };
  put(0b0100, 4);
  put(data.length, version < 10 ? 8 : 16);
  for (const byte of data) put(byte, 8);
  put(0, Math.min(4, capacity * 8 - bit));
  for (let i = Math.ceil(bit / 8), pad = 0; i < capacity; i++, pad ^= 1) out[i] = pad ? 0x11 : 0xec;
  return out;
}

// GF(256) over x^8 + x^4 + x^3 + x^2 + 1, as exponent and logarithm tables.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x;
  LOG[x] = i;
  x = x & 0x80 ? ((x << 1) ^ 0x11d) & 0xff : x << 1;
}
for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];

/** The generator polynomial of degree n, coefficients from the highest power (monic, left out). */
function generator(n: number): Uint8Array {
  let poly = Uint8Array.of(1);
  for (let i = 0; i < n; i++) {
    const next = new Uint8Array(poly.length + 1);
    for (let j = 0; j < poly.length; j++) {
      next[j] ^= poly[j];
      if (poly[j]) next[j + 1] ^= EXP[LOG[poly[j]] + i];
    }
    poly = next;
  }
  return poly.subarray(1);
}

/** The data split into the version's blocks, each with its Reed-Solomon codewords, interleaved (§7.6). */
function withErrorCorrection(version: number, data: Uint8Array): Uint8Array {
  const blocks: { data: Uint8Array; ecc: Uint8Array }[] = [];
  let at = 0;
  for (const g of groups(version)) {
    const gen = generator(g.total - g.data);
    for (let b = 0; b < g.count; b++, at += g.data) {
      const block = data.subarray(at, at + g.data);
      const ecc = new Uint8Array(gen.length);
      for (const byte of block) {
        const factor = byte ^ ecc[0];
        ecc.copyWithin(0, 1);
        ecc[ecc.length - 1] = 0;
        if (factor) for (let k = 0; k < gen.length; k++) ecc[k] ^= EXP[LOG[gen[k]] + LOG[factor]];
      }
      blocks.push({ data: block, ecc });
    }
  }
  const out: number[] = [];
  const longest = Math.max(...blocks.map((b) => b.data.length));
  for (let i = 0; i < longest; i++) for (const b of blocks) if (i < b.data.length) out.push(b.data[i]);
  for (let i = 0; i < blocks[0].ecc.length; i++) for (const b of blocks) out.push(b.ecc[i]);
  return Uint8Array.from(out);
}

/** Finder, separator, timing and alignment patterns, the dark module and version information; `reserved` marks them and the format areas. */
function functionPatterns(version: number): { modules: Uint8Array; reserved: Uint8Array } {
  const size = 17 + 4 * version;
  const modules = new Uint8Array(size * size);
  const reserved = new Uint8Array(size * size);
  const set = (row: number, col: number, dark: boolean) => {
    modules[row * size + col] = dark ? 1 : 0;
    reserved[row * size + col] = 1;
  };
  for (const [r0, c0] of [
    [0, 0],
    [0, size - 7],
    [size - 7, 0],
  ]) {
    for (let r = -1; r <= 7; r++) {
      for (let c = -1; c <= 7; c++) {
        const [row, col] = [r0 + r, c0 + c];
        if (row < 0 || row >= size || col < 0 || col >= size) continue;
        const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
        set(row, col, ring !== 2 && ring !== 4);
      }
    }
  }
  const centres = alignmentCentres(version);
  for (const r of centres) {
    for (const c of centres) {
      // Not where a finder is; drawn before the timing patterns, which they cross.
      if (reserved[r * size + c]) continue;
      for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  }
  for (let i = 8; i < size - 8; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  // Format areas (drawn per mask), and the module that is always dark.
  for (let i = 0; i < 9; i++) {
    reserved[8 * size + i] = reserved[i * size + 8] = 1;
    if (i < 8) reserved[8 * size + size - 1 - i] = reserved[(size - 1 - i) * size + 8] = 1;
  }
  set(size - 8, 8, true);
  if (version >= 7) {
    const bits = (version << 12) | bchRemainder(version << 12, 0x1f25);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >> i) & 1) === 1;
      set(Math.floor(i / 3), size - 11 + (i % 3), dark);
      set(size - 11 + (i % 3), Math.floor(i / 3), dark);
    }
  }
  return { modules, reserved };
}

/** Alignment pattern centres: 6, then evenly spaced to size − 7 (§6.3.6, Annex E). */
function alignmentCentres(version: number): number[] {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const last = 4 * version + 10;
  const step = version === 32 ? 26 : Math.ceil((last - 6) / (count - 1) / 2) * 2;
  return [6, ...Array.from({ length: count - 1 }, (_, i) => last - (count - 2 - i) * step)];
}

function bchRemainder(value: number, poly: number): number {
  const degree = 31 - Math.clz32(poly);
  let rest = value;
  while (rest && 31 - Math.clz32(rest) >= degree) rest ^= poly << (31 - Math.clz32(rest) - degree);
  return rest;
}

/** The codewords' bits in the zigzag of two-module columns from the bottom right (§7.7.3). */
function placeData(modules: Uint8Array, reserved: Uint8Array, size: number, codewords: Uint8Array): void {
  let bit = 0;
  let upward = true;
  for (let right = size - 1; right > 0; right -= 2) {
    if (right === 6) right = 5;
    for (let k = 0; k < size; k++) {
      const row = upward ? size - 1 - k : k;
      for (const col of [right, right - 1]) {
        const i = row * size + col;
        if (reserved[i]) continue;
        modules[i] = bit < codewords.length * 8 ? (codewords[bit >> 3] >> (7 - (bit & 7))) & 1 : 0;
        bit++;
      }
    }
    upward = !upward;
  }
}

function applyMask(modules: Uint8Array, reserved: Uint8Array, size: number, mask: number): void {
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const i = r * size + c;
      if (reserved[i]) continue;
      let flip: boolean;
      switch (mask) {
        case 0:
          flip = (r + c) % 2 === 0;
          break;
        case 1:
          flip = r % 2 === 0;
          break;
        case 2:
          flip = c % 3 === 0;
          break;
        case 3:
          flip = (r + c) % 3 === 0;
          break;
        case 4:
          flip = (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0;
          break;
        case 5:
          flip = ((r * c) % 2) + ((r * c) % 3) === 0;
          break;
        case 6:
          flip = (((r * c) % 2) + ((r * c) % 3)) % 2 === 0;
          break;
        default:
          flip = (((r + c) % 2) + ((r * c) % 3)) % 2 === 0;
      }
      if (flip) modules[i] ^= 1;
    }
  }
}

/** The 15 format bits (level, mask, BCH, XOR 0x5412) in both copies (§7.9). */
function drawFormat(modules: Uint8Array, size: number, mask: number): void {
  const data = (LEVEL_M << 3) | mask;
  const bits = ((data << 10) | bchRemainder(data << 10, 0x537)) ^ 0x5412;
  for (let i = 0; i < 15; i++) {
    const dark = (bits >> i) & 1;
    // Along column 8 (top left, then bottom left) and along row 8 (top right, then top left).
    modules[(i < 6 ? i : i < 8 ? i + 1 : size - 15 + i) * size + 8] = dark;
    modules[8 * size + (i < 8 ? size - 1 - i : i < 9 ? 7 : 14 - i)] = dark;
  }
}

/** ISO 18004 §8.8.2's penalty: runs, 2×2 blocks, finder-like patterns, and the dark balance. */
function penalty(m: Uint8Array, size: number): number {
  let score = 0;
  let dark = 0;
  for (let line = 0; line < size; line++) {
    for (const horizontal of [true, false]) {
      const at = (k: number) => (horizontal ? m[line * size + k] : m[k * size + line]);
      let run = 1;
      // The last 11 modules of the line as bits, for 1011101 with four light modules on a side.
      let window = 0;
      for (let k = 0; k < size; k++) {
        const v = at(k);
        if (k > 0) {
          if (v === at(k - 1)) run++;
          else {
            if (run >= 5) score += run - 2;
            run = 1;
          }
        }
        window = ((window << 1) | v) & 0x7ff;
        if (k >= 10 && (window === 0b10111010000 || window === 0b00001011101)) score += 40;
      }
      if (run >= 5) score += run - 2;
    }
  }
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const v = m[r * size + c];
      dark += v;
      if (r < size - 1 && c < size - 1 && v === m[r * size + c + 1] && v === m[(r + 1) * size + c] && v === m[(r + 1) * size + c + 1]) score += 3;
    }
  }
  return score + 10 * Math.floor(Math.abs((dark * 100) / (size * size) - 50) / 5);
}
