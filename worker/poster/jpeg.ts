import type { Pixels } from './engines';
import { AAN_SCALE, ZIGZAG } from './jpeg-tables';

// JPEG encoding in plain JavaScript, so that no codec needs a wasm instance (emscripten's mozjpeg
// builds reserve 16 MB of linear memory each, which never shrinks): our own baseline encoder
// (JFIF, YCbCr 4:2:0, the Annex K quantisation and Huffman tables). mozjpeg always runs trellis
// quantisation, which made it half of every poster render; this does the plain libjpeg work in
// about a third of the time. Decoding is jpeg-decoder.ts.

/** Luminance and chrominance quantisation tables of ITU T.81 Annex K, in natural (row-major) order. */
const BASE_QUANT = [
  [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109,
    103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
  ],
  [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  ],
];

/** ZIGZAG as offsets into a block whose rows are 8 or 16 samples apart. */
const ZIGZAG_8 = ZIGZAG;
const ZIGZAG_16 = ZIGZAG.map((n) => (n >> 3) * 16 + (n & 7));

/** Annex K.3 Huffman tables: code counts per length 1–16, then the symbols. */
interface HuffmanSpec {
  counts: number[];
  symbols: number[];
}
const DC_LUMA: HuffmanSpec = { counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const DC_CHROMA: HuffmanSpec = { counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const AC_LUMA: HuffmanSpec = {
  counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  symbols: hex(
    '01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa',
  ),
};
const AC_CHROMA: HuffmanSpec = {
  counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  symbols: hex(
    '000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa',
  ),
};

/**
 * A picture's MCUs (16×16 pixels each, row by row) entropy-coded one by one at `quality`: with a
 * restart marker after every MCU each is coded on its own (predictions start over), so the bytes
 * of any MCU whose pixels did not change can be copied into another JPEG of the same size and
 * quality. MCU `i` is `bytes[offsets[i]..offsets[i + 1]]`.
 */
export interface EncodedMcus {
  width: number;
  height: number;
  quality: number;
  offsets: Uint32Array;
  bytes: Uint8Array;
}

/** Which MCUs of a picture changed since its {@link EncodedMcus} were made (1 = encode again), row by row. */
export type DirtyMcus = Uint8Array;

/**
 * Encodes opaque RGBA pixels (alpha ignored) as a baseline JPEG, one restart interval per MCU.
 * With `reuse`, the MCUs not marked dirty are copied from it instead of encoded, which must then
 * be of these pixels' size and this quality.
 * @param quality 1–100, libjpeg's scaling of the Annex K tables, clamped to baseline's 8-bit values.
 */
export function encodeJpeg({ pixels, width, height }: Pixels, quality: number, reuse?: { mcus: EncodedMcus; dirty: DirtyMcus }): Uint8Array {
  if (reuse && (reuse.mcus.width !== width || reuse.mcus.height !== height || reuse.mcus.quality !== quality))
    throw new Error('poster: cached MCUs are of another size or quality');
  const quant = BASE_QUANT.map((base) => scaleQuant(base, quality));
  const out = new ByteWriter(reuse ? reuse.mcus.bytes.length + 4096 : (width * height) >> 2);
  writeHeaders(out, width, height, quant);
  const scan = new ScanEncoder(out, quant);
  const columns = Math.ceil(width / 16);
  const count = columns * Math.ceil(height / 16);
  for (let i = 0; i < count; i++) {
    // RSTn after each MCU but the last, n counting 0–7.
    if (i > 0) out.bytes(0xff, 0xd0 + ((i - 1) & 7));
    if (reuse && !reuse.dirty[i]) out.append(reuse.mcus.bytes.subarray(reuse.mcus.offsets[i], reuse.mcus.offsets[i + 1]));
    else scan.mcu(pixels, width, height, (i % columns) * 16, Math.floor(i / columns) * 16);
  }
  out.bytes(0xff, 0xd9);
  return out.result();
}

/** Every MCU of a picture coded on its own, for {@link encodeJpeg}'s `reuse`. */
export function encodeMcus({ pixels, width, height }: Pixels, quality: number): EncodedMcus {
  const out = new ByteWriter((width * height) >> 3);
  const scan = new ScanEncoder(
    out,
    BASE_QUANT.map((base) => scaleQuant(base, quality)),
  );
  const columns = Math.ceil(width / 16);
  const count = columns * Math.ceil(height / 16);
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    scan.mcu(pixels, width, height, (i % columns) * 16, Math.floor(i / columns) * 16);
    offsets[i + 1] = out.pos;
  }
  return { width, height, quality, offsets, bytes: out.result() };
}

/** A fresh dirty map for a picture: nothing dirty yet. */
export function cleanMcus(width: number, height: number): DirtyMcus {
  return new Uint8Array(Math.ceil(width / 16) * Math.ceil(height / 16));
}

// "MCU1". Coded MCUs are only valid under the tables and sampling this encoder writes: change
// the magic whenever those change, so stored ones are coded again.
const MCU_MAGIC = 0x4d435531;

/** {@link EncodedMcus} as bytes to store: a 16-byte header, the offsets (little-endian), the coded MCUs. */
export function serializeMcus(m: EncodedMcus): Uint8Array {
  const out = new Uint8Array(16 + m.offsets.byteLength + m.bytes.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MCU_MAGIC);
  view.setUint16(4, m.width);
  view.setUint16(6, m.height);
  view.setUint32(8, m.quality);
  view.setUint32(12, m.offsets.length);
  new Uint32Array(out.buffer, 16, m.offsets.length).set(m.offsets);
  out.set(m.bytes, 16 + m.offsets.byteLength);
  return out;
}

/** Reads what {@link serializeMcus} wrote; null for anything else (a truncated or foreign object). */
export function parseMcus(b: Uint8Array): EncodedMcus | null {
  if (b.byteLength < 16 || b.byteOffset % 4) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = view.getUint16(4);
  const height = view.getUint16(6);
  const count = view.getUint32(12);
  if (view.getUint32(0) !== MCU_MAGIC || count !== Math.ceil(width / 16) * Math.ceil(height / 16) + 1 || b.byteLength < 16 + count * 4) return null;
  const offsets = new Uint32Array(b.buffer, b.byteOffset + 16, count);
  const bytes = b.subarray(16 + count * 4);
  if (offsets[0] !== 0 || offsets[count - 1] !== bytes.byteLength) return null;
  return { width, height, quality: view.getUint32(8), offsets, bytes };
}

function hex(s: string): number[] {
  return Array.from({ length: s.length / 2 }, (_, i) => parseInt(s.slice(i * 2, i * 2 + 2), 16));
}

/** libjpeg's jpeg_quality_scaling + jpeg_add_quant_table with force_baseline. */
function scaleQuant(base: number[], quality: number): Uint8Array {
  const q = Math.min(Math.max(Math.round(quality), 1), 100);
  const scale = q < 50 ? 5000 / q : 200 - q * 2;
  return Uint8Array.from(base, (v) => Math.min(Math.max(Math.floor((v * scale + 50) / 100), 1), 255));
}

/** Byte output that grows as needed. */
class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initial: number) {
    this.buf = new Uint8Array(Math.max(initial, 4096));
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  bytes(...values: number[]): void {
    this.reserve(values.length);
    for (const v of values) this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.bytes(v >> 8, v & 0xff);
  }

  append(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.buf.set(chunk, this.pos);
    this.pos += chunk.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function writeHeaders(out: ByteWriter, width: number, height: number, quant: Uint8Array[]): void {
  // SOI, then JFIF APP0 (version 1.1, no density, no thumbnail).
  out.bytes(0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0);
  quant.forEach((table, id) => {
    out.bytes(0xff, 0xdb);
    out.u16(67);
    out.bytes(id, ...Array.from(ZIGZAG, (n) => table[n]));
  });
  // SOF0: 8-bit, three components; Y sampled 2×2, Cb and Cr 1×1 with the chroma table.
  out.bytes(0xff, 0xc0);
  out.u16(17);
  out.bytes(8);
  out.u16(height);
  out.u16(width);
  out.bytes(3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1);
  const tables: [number, HuffmanSpec][] = [
    [0x00, DC_LUMA],
    [0x10, AC_LUMA],
    [0x01, DC_CHROMA],
    [0x11, AC_CHROMA],
  ];
  for (const [id, spec] of tables) {
    out.bytes(0xff, 0xc4);
    out.u16(3 + 16 + spec.symbols.length);
    out.bytes(id, ...spec.counts, ...spec.symbols);
  }
  // DRI: a restart interval of one MCU (see EncodedMcus).
  out.bytes(0xff, 0xdd, 0, 4, 0, 1);
  // SOS: the three components in one interleaved scan, full spectrum.
  out.bytes(0xff, 0xda);
  out.u16(12);
  out.bytes(3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0);
}

/** Code and length per symbol (Annex C), packed as code << 8 | length. */
function huffmanCodes({ counts, symbols }: HuffmanSpec): Int32Array {
  const codes = new Int32Array(256);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]; i++) codes[symbols[k++]] = (code++ << 8) | len;
    code <<= 1;
  }
  return codes;
}

/** The entropy-coded scan: colour conversion, 4:2:0 subsampling, DCT, quantisation, Huffman coding. */
class ScanEncoder {
  private readonly divisors: Float32Array[];
  private readonly dc = [huffmanCodes(DC_LUMA), huffmanCodes(DC_CHROMA)];
  private readonly ac = [huffmanCodes(AC_LUMA), huffmanCodes(AC_CHROMA)];
  private readonly coef = new Int32Array(64);
  // 16×16 luma and the two 8×8 chroma samples of one MCU, level-shifted.
  private readonly y = new Float32Array(256);
  private readonly cb = new Float32Array(64);
  private readonly cr = new Float32Array(64);
  /** Whether the last MCU sampled is grey throughout (no chroma to code). */
  private grey = false;
  private bitBuf = 0;
  private bitCount = 0;

  constructor(
    private readonly out: ByteWriter,
    quant: Uint8Array[],
  ) {
    // Multiplying by 1 / (q × 8 × aan[u] × aan[v]) undoes the AAN scaling and quantises at once;
    // kept in zigzag order, the order coefficients are coded in.
    this.divisors = quant.map((table) => Float32Array.from(ZIGZAG, (n) => 1 / (table[n] * 8 * AAN_SCALE[n >> 3] * AAN_SCALE[n & 7])));
  }

  /** Codes the MCU at (mx, my) as a restart interval of its own: predictions from 0, last byte padded. */
  mcu(pixels: Uint8Array, width: number, height: number, mx: number, my: number): void {
    this.sampleMcu(pixels, width, height, mx, my);
    // The four luma blocks are coded in place in the 16×16 samples (row stride 16).
    let dc = 0;
    for (let b = 0; b < 4; b++) dc = this.codeBlock(this.y, (b >> 1) * 128 + (b & 1) * 8, 16, 0, dc);
    if (this.grey) {
      // Grey pixels have no chroma: each chroma block is a DC of 0 and end-of-block, as the DCT
      // would find (the QR code, black and white text).
      for (let c = 0; c < 2; c++) {
        this.putCode(this.dc[1][0]);
        this.putCode(this.ac[1][0]);
      }
    } else {
      this.codeBlock(this.cb, 0, 8, 1, 0);
      this.codeBlock(this.cr, 0, 8, 1, 0);
    }
    // Pad the last byte with 1-bits (T.81 F.1.2.3).
    if (this.bitCount > 0) this.putBits((1 << (8 - this.bitCount)) - 1, 8 - this.bitCount);
  }

  /** Converts one 16×16 MCU to level-shifted Y, Cb, Cr; edge pixels repeat past the image. */
  private sampleMcu(pixels: Uint8Array, width: number, height: number, mx: number, my: number): void {
    const { y, cb, cr } = this;
    cb.fill(0);
    cr.fill(0);
    let grey = true;
    for (let r = 0; r < 16; r++) {
      const row = Math.min(my + r, height - 1) * width;
      for (let c = 0; c < 16; c++) {
        const i = (row + Math.min(mx + c, width - 1)) * 4;
        const red = pixels[i];
        const green = pixels[i + 1];
        const blue = pixels[i + 2];
        grey &&= red === green && green === blue;
        y[r * 16 + c] = 0.299 * red + 0.587 * green + 0.114 * blue - 128;
        const k = (r >> 1) * 8 + (c >> 1);
        cb[k] += -0.168736 * red - 0.331264 * green + 0.5 * blue;
        cr[k] += 0.5 * red - 0.418688 * green - 0.081312 * blue;
      }
    }
    this.grey = grey;
    if (grey) return;
    for (let k = 0; k < 64; k++) {
      cb[k] *= 0.25;
      cr[k] *= 0.25;
    }
  }

  /**
   * DCT, quantisation and Huffman coding of the 8×8 block at `base` in `data` with rows `stride`
   * (8 or 16) apart; destroys the block and returns its DC for prediction.
   */
  private codeBlock(data: Float32Array, base: number, stride: number, table: number, previousDc: number): number {
    fdct(data, base, stride);
    const divisor = this.divisors[table];
    const coef = this.coef;
    const order = stride === 16 ? ZIGZAG_16 : ZIGZAG_8;
    for (let k = 0; k < 64; k++) {
      // Round half away from zero, as libjpeg does; much faster than Math.round here.
      const q = data[base + order[k]] * divisor[k];
      coef[k] = q < 0 ? -((0.5 - q) | 0) : (q + 0.5) | 0;
    }
    const dcCodes = this.dc[table];
    const acCodes = this.ac[table];
    const diff = coef[0] - previousDc;
    const dcSize = magnitude(diff);
    this.putCode(dcCodes[dcSize]);
    if (dcSize) this.putBits(diff < 0 ? diff + (1 << dcSize) - 1 : diff, dcSize);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = coef[k];
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        this.putCode(acCodes[0xf0]);
        run -= 16;
      }
      const size = magnitude(v);
      this.putCode(acCodes[(run << 4) | size]);
      this.putBits(v < 0 ? v + (1 << size) - 1 : v, size);
      run = 0;
    }
    if (run > 0) this.putCode(acCodes[0x00]);
    return coef[0];
  }

  private putCode(packed: number): void {
    this.putBits(packed >> 8, packed & 0xff);
  }

  /** Appends the low `count` (≤ 16) bits of `value`, stuffing a zero byte after every 0xFF. */
  private putBits(value: number, count: number): void {
    this.bitBuf = (this.bitBuf << count) | (value & ((1 << count) - 1));
    this.bitCount += count;
    if (this.bitCount < 8) return;
    const out = this.out;
    out.reserve(4);
    while (this.bitCount >= 8) {
      this.bitCount -= 8;
      const byte = (this.bitBuf >> this.bitCount) & 0xff;
      out.buf[out.pos++] = byte;
      if (byte === 0xff) out.buf[out.pos++] = 0;
    }
    this.bitBuf &= (1 << this.bitCount) - 1;
  }
}

/** Bits needed for |v| (the JPEG "category"). */
function magnitude(v: number): number {
  return v === 0 ? 0 : 32 - Math.clz32(v < 0 ? -v : v);
}

/**
 * In-place forward DCT of the 8×8 block at `base` with rows `stride` apart: the AAN algorithm of
 * libjpeg's jfdctflt.c (output scaled by 8 × AAN_SCALE).
 */
function fdct(d: Float32Array, base: number, stride: number): void {
  // The eight rows, then the eight columns, in one loop: one function that runs hot from the first
  // poster (a fresh isolate interprets short functions called 16 times per block slowly).
  for (let pass = 0; pass < 16; pass++) {
    const o = pass < 8 ? base + pass * stride : base + pass - 8;
    const s = pass < 8 ? 1 : stride;
    const i1 = o + s;
    const i2 = i1 + s;
    const i3 = i2 + s;
    const i4 = i3 + s;
    const i5 = i4 + s;
    const i6 = i5 + s;
    const i7 = i6 + s;
    const tmp0 = d[o] + d[i7];
    const tmp7 = d[o] - d[i7];
    const tmp1 = d[i1] + d[i6];
    const tmp6 = d[i1] - d[i6];
    const tmp2 = d[i2] + d[i5];
    const tmp5 = d[i2] - d[i5];
    const tmp3 = d[i3] + d[i4];
    const tmp4 = d[i3] - d[i4];

    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    d[o] = tmp10 + tmp11;
    d[i4] = tmp10 - tmp11;
    const z1 = (tmp12 + tmp13) * Math.SQRT1_2;
    d[i2] = tmp13 + z1;
    d[i6] = tmp13 - z1;

    const t10 = tmp4 + tmp5;
    const t11 = tmp5 + tmp6;
    const t12 = tmp6 + tmp7;
    const z5 = (t10 - t12) * 0.382683433;
    const z2 = 0.5411961 * t10 + z5;
    const z4 = 1.306562965 * t12 + z5;
    const z3 = t11 * Math.SQRT1_2;
    const z11 = tmp7 + z3;
    const z13 = tmp7 - z3;
    d[i5] = z13 + z2;
    d[i3] = z13 - z2;
    d[i1] = z11 + z4;
    d[i7] = z11 - z4;
  }
}
