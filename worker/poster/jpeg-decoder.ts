import { newPixels, type PixelOutput, type Pixels } from './engines';
import { ImageError } from './image-error';
import { AAN_SCALE, ZIGZAG } from './jpeg-tables';

// A JPEG decoder in plain JavaScript, written for memory: the coefficients of every component
// live in one Int16Array each (2 bytes per sample), and the picture is converted to RGBA one
// MCU row at a time straight into the output, so nothing else of picture size is allocated.
// Baseline and progressive Huffman frames, 8-bit, 1, 3 or 4 components, any sampling factors,
// restart intervals. Chroma is upsampled by repetition, which matches the 2×2 grid the poster
// encoder subsamples on again.

/** A decoded Huffman table: 9-bit lookup for short codes, canonical limits for the rest. */
interface Huffman {
  /** Indexed by the next 9 bits: (code length << 8) | symbol, or 0 when the code is longer. */
  lookup: Uint16Array;
  /** Per code length 1–16: largest code of that length (−1 when none). */
  maxCode: Int32Array;
  /** Per code length: index in `symbols` of its first code, minus that code. */
  offset: Int32Array;
  symbols: Uint8Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  quantTable: number;
  /** Blocks the picture needs, and blocks stored (whole MCUs). */
  blocksPerLine: number;
  blocksPerColumn: number;
  storedPerLine: number;
  coef: Int16Array;
  dcTable: Huffman | null;
  acTable: Huffman | null;
  prediction: number;
}

interface Frame {
  progressive: boolean;
  width: number;
  height: number;
  components: Component[];
  hMax: number;
  vMax: number;
  mcusPerLine: number;
  mcusPerColumn: number;
}

const LOOKUP_BITS = 9;

/** Options for {@link decodeJpeg}. */
export interface JpegDecodeOptions {
  /** Frames of more pixels are refused before anything is allocated for them. */
  maxPixels?: number;
  /** Where the RGBA goes. */
  output?: PixelOutput;
}

/**
 * Decodes JPEG bytes to opaque RGBA.
 * @throws ImageError `too_large` when a frame has more than `maxPixels`; `unreadable` for a second
 * frame, an unsupported kind (arithmetic, lossless, hierarchical, 12-bit) or corrupt data.
 */
export function decodeJpeg(bytes: Uint8Array, options: JpegDecodeOptions = {}): Pixels {
  try {
    return new JpegReader(bytes, options.maxPixels ?? Number.POSITIVE_INFINITY, options.output ?? newPixels).read();
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError('unreadable', `JPEG: ${e instanceof Error ? e.message : String(e)}`);
  }
}

class JpegReader {
  private pos = 2;
  private readonly quant: (Float32Array | undefined)[] = [];
  private readonly dcTables: (Huffman | undefined)[] = [];
  private readonly acTables: (Huffman | undefined)[] = [];
  private frame: Frame | null = null;
  private restartInterval = 0;
  private adobeTransform = -1;
  private jfif = false;
  private scans = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly maxPixels: number,
    private readonly output: PixelOutput,
  ) {}

  read(): Pixels {
    const d = this.data;
    if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8) throw new ImageError('unreadable', 'JPEG: no start-of-image marker');
    for (;;) {
      const marker = this.nextMarker();
      if (marker === 0xd9 || marker < 0) break;
      if (marker >= 0xd0 && marker <= 0xd7) continue;
      const length = this.u16(this.pos);
      const start = this.pos + 2;
      const end = this.pos + length;
      if (length < 2 || end > d.length) throw new Error('segment runs past the end');
      this.pos = end;
      if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) this.readFrame(start, marker === 0xc2);
      else if (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
        throw new ImageError('unreadable', 'JPEG: lossless, hierarchical or arithmetic-coded frames are not supported');
      else if (marker === 0xdb) this.readQuantTables(start, end);
      else if (marker === 0xc4) this.readHuffmanTables(start, end);
      else if (marker === 0xdd) this.restartInterval = this.u16(start);
      else if (marker === 0xda) this.pos = this.readScan(start);
      else if (marker === 0xe0) this.jfif ||= d[start] === 0x4a && d[start + 1] === 0x46 && d[start + 2] === 0x49 && d[start + 3] === 0x46;
      else if (marker === 0xee && d[start] === 0x41 && d[start + 1] === 0x64 && d[start + 2] === 0x6f && d[start + 3] === 0x62 && d[start + 4] === 0x65)
        this.adobeTransform = d[start + 11];
    }
    if (!this.frame || this.scans === 0) throw new ImageError('unreadable', 'JPEG: no image data');
    return this.toRgba(this.frame);
  }

  private u16(at: number): number {
    return (this.data[at] << 8) | this.data[at + 1];
  }

  /** The next marker from `pos` (skipping fill bytes and stray data), with `pos` after it; −1 at the end. */
  private nextMarker(): number {
    const d = this.data;
    while (this.pos + 1 < d.length) {
      if (d[this.pos] === 0xff && d[this.pos + 1] !== 0 && d[this.pos + 1] !== 0xff) {
        const marker = d[this.pos + 1];
        this.pos += 2;
        return marker;
      }
      this.pos++;
    }
    return -1;
  }

  private readFrame(at: number, progressive: boolean): void {
    const d = this.data;
    const height = this.u16(at + 1);
    const width = this.u16(at + 3);
    // Checked before the second-frame rule: a frame over the cap is reported as such wherever it is.
    if (width * height > this.maxPixels) throw new ImageError('too_large', `JPEG frame of ${width}×${height} pixels`, { width, height });
    if (this.frame) throw new ImageError('unreadable', 'JPEG: more than one frame');
    if (d[at] !== 8) throw new ImageError('unreadable', `JPEG: ${d[at]}-bit samples are not supported`);
    if (width === 0 || height === 0) throw new ImageError('unreadable', 'JPEG: frame without a size');
    const count = d[at + 5];
    if (count !== 1 && count !== 3 && count !== 4) throw new ImageError('unreadable', `JPEG: ${count} components`);
    const specs = Array.from({ length: count }, (_, i) => ({
      id: d[at + 6 + i * 3],
      h: d[at + 7 + i * 3] >> 4,
      v: d[at + 7 + i * 3] & 15,
      q: d[at + 8 + i * 3],
    }));
    if (specs.some((s) => s.h < 1 || s.h > 4 || s.v < 1 || s.v > 4 || s.q > 3)) throw new Error('bad component sampling');
    const hMax = Math.max(...specs.map((s) => s.h));
    const vMax = Math.max(...specs.map((s) => s.v));
    const mcusPerLine = Math.ceil(width / (8 * hMax));
    const mcusPerColumn = Math.ceil(height / (8 * vMax));
    const components = specs.map((s): Component => {
      const storedPerLine = mcusPerLine * s.h;
      return {
        id: s.id,
        h: s.h,
        v: s.v,
        quantTable: s.q,
        blocksPerLine: Math.ceil(Math.ceil((width * s.h) / hMax) / 8),
        blocksPerColumn: Math.ceil(Math.ceil((height * s.v) / vMax) / 8),
        storedPerLine,
        coef: new Int16Array(storedPerLine * mcusPerColumn * s.v * 64),
        dcTable: null,
        acTable: null,
        prediction: 0,
      };
    });
    this.frame = { progressive, width, height, components, hMax, vMax, mcusPerLine, mcusPerColumn };
  }

  /** Quantisation tables, kept in natural order with the IDCT's scaling and its final ÷ 8 folded in. */
  private readQuantTables(at: number, end: number): void {
    const d = this.data;
    while (at < end) {
      const precision = d[at] >> 4;
      const id = d[at] & 15;
      if (id > 3) throw new Error('bad quantisation table id');
      at++;
      const table = new Float32Array(64);
      for (let k = 0; k < 64; k++) {
        const q = precision ? this.u16(at + 2 * k) : d[at + k];
        const n = ZIGZAG[k];
        table[n] = (q * AAN_SCALE[n >> 3] * AAN_SCALE[n & 7]) / 8;
      }
      this.quant[id] = table;
      at += precision ? 128 : 64;
    }
  }

  private readHuffmanTables(at: number, end: number): void {
    const d = this.data;
    while (at < end) {
      const tableClass = d[at] >> 4;
      const id = d[at] & 15;
      if (id > 3) throw new Error('bad Huffman table id');
      const counts = d.subarray(at + 1, at + 17);
      let total = 0;
      for (const c of counts) total += c;
      const symbols = d.slice(at + 17, at + 17 + total);
      (tableClass === 0 ? this.dcTables : this.acTables)[id] = buildHuffman(counts, symbols);
      at += 17 + total;
    }
  }

  /** Reads one scan's header and entropy-coded data; returns where the next marker search starts. */
  private readScan(at: number): number {
    const frame = this.frame;
    if (!frame) throw new Error('scan before frame');
    const d = this.data;
    const count = d[at];
    const components: Component[] = [];
    for (let i = 0; i < count; i++) {
      const c = frame.components.find((x) => x.id === d[at + 1 + i * 2]);
      if (!c) throw new Error('scan names an unknown component');
      c.dcTable = this.dcTables[d[at + 2 + i * 2] >> 4] ?? null;
      c.acTable = this.acTables[d[at + 2 + i * 2] & 15] ?? null;
      components.push(c);
    }
    const p = at + 1 + count * 2;
    const scan = new ScanDecoder(d, this.pos, frame, components, { start: d[p], end: d[p + 1], high: d[p + 2] >> 4, low: d[p + 2] & 15 }, this.restartInterval);
    this.scans++;
    return scan.decode();
  }

  /** IDCT, upsampling and colour conversion, one MCU row at a time, into the RGBA output. */
  private toRgba(frame: Frame): Pixels {
    const { width, height, components, hMax, vMax } = frame;
    const out = this.output(width * height * 4);
    const strips = components.map((c) => {
      const quant = this.quant[c.quantTable];
      if (!quant) throw new Error('missing quantisation table');
      // Source column for each output column, and the strip row for each row of an MCU row.
      const columns = Int32Array.from({ length: width }, (_, x) => Math.floor((x * c.h) / hMax));
      const rows = Int32Array.from({ length: 8 * vMax }, (_, y) => Math.floor((y * c.v) / vMax));
      return { c, quant, columns, rows, stride: c.storedPerLine * 8, samples: new Uint8Array(c.storedPerLine * 8 * c.v * 8) };
    });
    const transform = this.colourTransform(components.length);
    for (let mcuRow = 0; mcuRow < frame.mcusPerColumn; mcuRow++) {
      for (const s of strips) {
        for (let v = 0; v < s.c.v; v++) {
          const blockRow = mcuRow * s.c.v + v;
          for (let col = 0; col < s.c.storedPerLine; col++) {
            idct(s.c.coef, (blockRow * s.c.storedPerLine + col) * 64, s.quant, s.samples, v * 8 * s.stride + col * 8, s.stride);
          }
        }
      }
      const top = mcuRow * 8 * vMax;
      for (let y = 0; y < 8 * vMax && top + y < height; y++) {
        let o = (top + y) * width * 4;
        const lines = strips.map((s) => s.rows[y] * s.stride);
        if (strips.length === 1) {
          const { samples, columns } = strips[0];
          for (let x = 0; x < width; x++, o += 4) {
            const g = samples[lines[0] + columns[x]];
            out[o] = out[o + 1] = out[o + 2] = g;
            out[o + 3] = 255;
          }
          continue;
        }
        const [a, b, c] = strips;
        const k = strips[3];
        for (let x = 0; x < width; x++, o += 4) {
          const c0 = a.samples[lines[0] + a.columns[x]];
          const c1 = b.samples[lines[1] + b.columns[x]];
          const c2 = c.samples[lines[2] + c.columns[x]];
          let r = c0;
          let g = c1;
          let bl = c2;
          if (transform !== 'rgb' && transform !== 'cmyk') {
            // YCbCr → RGB (JFIF).
            r = c0 + 1.402 * (c2 - 128);
            g = c0 - 0.344136 * (c1 - 128) - 0.714136 * (c2 - 128);
            bl = c0 + 1.772 * (c1 - 128);
          }
          if (k) {
            // Adobe's CMYK is stored inverted, so each channel times K is the RGB value; YCCK's
            // colour part converts to RGB, which is CMY uninverted.
            const kv = k.samples[lines[3] + k.columns[x]] / 255;
            if (transform === 'ycck') [r, g, bl] = [255 - clampByte(r), 255 - clampByte(g), 255 - clampByte(bl)];
            r *= kv;
            g *= kv;
            bl *= kv;
          }
          out[o] = clampByte(r);
          out[o + 1] = clampByte(g);
          out[o + 2] = clampByte(bl);
          out[o + 3] = 255;
        }
      }
    }
    return { pixels: out, width, height };
  }

  private colourTransform(components: number): 'grey' | 'rgb' | 'ycc' | 'cmyk' | 'ycck' {
    if (components === 1) return 'grey';
    if (components === 4) return this.adobeTransform === 2 ? 'ycck' : 'cmyk';
    // Adobe's flag decides; without it JFIF means YCbCr, and component ids R, G, B mean RGB.
    if (this.adobeTransform === 0) return 'rgb';
    if (this.adobeTransform < 0 && !this.jfif && this.frame?.components.map((c) => c.id).join() === '82,71,66') return 'rgb';
    return 'ycc';
  }
}

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Huffman {
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  const maxCode = new Int32Array(18).fill(-1);
  const offset = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    offset[len] = k - code;
    for (let i = 0; i < counts[len - 1]; i++, k++, code++) {
      if (len <= LOOKUP_BITS) {
        const shift = LOOKUP_BITS - len;
        lookup.fill((len << 8) | symbols[k], code << shift, (code + 1) << shift);
      }
    }
    if (counts[len - 1]) maxCode[len] = code - 1;
    code <<= 1;
  }
  // Guards the slow path's loop: every code is at most 16 bits.
  maxCode[17] = 0x7fffffff;
  return { lookup, maxCode, offset, symbols };
}

interface Spectral {
  start: number;
  end: number;
  high: number;
  low: number;
}

/** One scan's entropy-coded segment: Huffman decoding into the components' coefficients. */
class ScanDecoder {
  private bits = 0;
  private count = 0;
  /** Set once a marker is reached: the rest of the segment reads as zero bits. */
  private atMarker = false;
  /** Zero bits fed in past the end of the file: reading any of them means the file is cut short. */
  private padding = 0;
  private eobRun = 0;

  constructor(
    private readonly d: Uint8Array,
    private pos: number,
    private readonly frame: Frame,
    private readonly components: Component[],
    private readonly s: Spectral,
    private readonly restartInterval: number,
  ) {}

  decode(): number {
    const { frame, components, s } = this;
    const single = components.length === 1;
    const mcus = single ? components[0].blocksPerLine * components[0].blocksPerColumn : frame.mcusPerLine * frame.mcusPerColumn;
    const decodeBlock = this.blockDecoder();
    for (const c of components) {
      if (!c.dcTable && s.start === 0 && s.high === 0) throw new Error('missing DC table');
      if (!c.acTable && s.end > 0) throw new Error('missing AC table');
      c.prediction = 0;
    }
    for (let mcu = 0; mcu < mcus; mcu++) {
      if (this.restartInterval && mcu > 0 && mcu % this.restartInterval === 0) this.restart();
      if (single) {
        const c = components[0];
        const row = (mcu / c.blocksPerLine) | 0;
        decodeBlock(c, (row * c.storedPerLine + (mcu - row * c.blocksPerLine)) * 64);
        continue;
      }
      const mcuRow = (mcu / frame.mcusPerLine) | 0;
      const mcuCol = mcu - mcuRow * frame.mcusPerLine;
      for (const c of components) {
        for (let v = 0; v < c.v; v++) {
          for (let h = 0; h < c.h; h++) decodeBlock(c, ((mcuRow * c.v + v) * c.storedPerLine + mcuCol * c.h + h) * 64);
        }
      }
    }
    if (this.count < this.padding) throw new Error('data ends early');
    return this.pos;
  }

  private blockDecoder(): (c: Component, at: number) => void {
    const { s } = this;
    if (!this.frame.progressive) return (c, at) => this.baseline(c, at);
    if (s.start === 0) return s.high === 0 ? (c, at) => this.dcFirst(c, at) : (c, at) => this.dcRefine(c, at);
    return s.high === 0 ? (c, at) => this.acFirst(c, at) : (c, at) => this.acRefine(c, at);
  }

  /** Keeps at least 25 bits buffered (zeros once a marker is reached). */
  private fill(): void {
    const d = this.d;
    while (this.count <= 24) {
      let byte = 0;
      if (!this.atMarker && this.pos >= d.length) this.padding += 8;
      else if (!this.atMarker) {
        byte = d[this.pos];
        if (byte === 0xff) {
          const next = d[this.pos + 1];
          if (next === 0) this.pos += 2;
          else {
            this.atMarker = true;
            byte = 0;
          }
        } else this.pos++;
      }
      this.bits = (this.bits << 8) | byte;
      this.count += 8;
    }
  }

  private take(n: number): number {
    if (this.count < n) this.fill();
    this.count -= n;
    return (this.bits >>> this.count) & ((1 << n) - 1);
  }

  private huffman(table: Huffman): number {
    if (this.count < 16) this.fill();
    const peek = (this.bits >>> (this.count - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1);
    const hit = table.lookup[peek];
    if (hit) {
      this.count -= hit >> 8;
      return hit & 0xff;
    }
    for (let len = LOOKUP_BITS + 1; len <= 16; len++) {
      const code = (this.bits >>> (this.count - len)) & ((1 << len) - 1);
      if (code <= table.maxCode[len]) {
        this.count -= len;
        return table.symbols[table.offset[len] + code];
      }
    }
    throw new Error('corrupt Huffman code');
  }

  /** A value of `size` bits, sign-extended as T.81 F.2.2.1 says. */
  private extend(size: number): number {
    if (size === 0) return 0;
    const v = this.take(size);
    return v < 1 << (size - 1) ? v - (1 << size) + 1 : v;
  }

  /** Past a restart marker: the bit buffer, predictions and end-of-band run start over. */
  private restart(): void {
    const d = this.d;
    if (this.count < this.padding) throw new Error('data ends early');
    this.bits = 0;
    this.count = 0;
    this.padding = 0;
    this.atMarker = false;
    this.eobRun = 0;
    for (const c of this.components) c.prediction = 0;
    while (this.pos + 1 < d.length && !(d[this.pos] === 0xff && d[this.pos + 1] >= 0xd0 && d[this.pos + 1] <= 0xd7)) this.pos++;
    this.pos += 2;
  }

  private baseline(c: Component, at: number): void {
    const coef = c.coef;
    c.prediction += this.extend(this.huffman(c.dcTable!));
    coef[at] = c.prediction;
    const ac = c.acTable!;
    for (let k = 1; k < 64; ) {
      const rs = this.huffman(ac);
      const size = rs & 15;
      const run = rs >> 4;
      if (size === 0) {
        if (run < 15) break;
        k += 16;
        continue;
      }
      k += run;
      if (k > 63) break;
      coef[at + ZIGZAG[k]] = this.extend(size);
      k++;
    }
  }

  private dcFirst(c: Component, at: number): void {
    c.prediction += this.extend(this.huffman(c.dcTable!));
    c.coef[at] = c.prediction * (1 << this.s.low);
  }

  private dcRefine(c: Component, at: number): void {
    if (this.take(1)) c.coef[at] |= 1 << this.s.low;
  }

  private acFirst(c: Component, at: number): void {
    if (this.eobRun > 0) {
      this.eobRun--;
      return;
    }
    const { start, end, low } = this.s;
    const ac = c.acTable!;
    for (let k = start; k <= end; ) {
      const rs = this.huffman(ac);
      const size = rs & 15;
      const run = rs >> 4;
      if (size === 0) {
        if (run < 15) {
          this.eobRun = (1 << run) - 1 + (run ? this.take(run) : 0);
          break;
        }
        k += 16;
        continue;
      }
      k += run;
      if (k > 63) break;
      c.coef[at + ZIGZAG[k]] = this.extend(size) * (1 << low);
      k++;
    }
  }

  /** libjpeg's decode_mcu_AC_refine: correction bits for known coefficients, new ones of ±1 << low. */
  private acRefine(c: Component, at: number): void {
    const { start, end, low } = this.s;
    const coef = c.coef;
    const plus = 1 << low;
    const minus = -1 << low;
    const refine = (i: number) => {
      const v = coef[i];
      if (this.take(1) && (v & plus) === 0) coef[i] = v >= 0 ? v + plus : v + minus;
    };
    let k = start;
    if (this.eobRun === 0) {
      const ac = c.acTable!;
      for (; k <= end; k++) {
        const rs = this.huffman(ac);
        let run = rs >> 4;
        let value = 0;
        if (rs & 15) value = this.take(1) ? plus : minus;
        else if (run !== 15) {
          this.eobRun = (1 << run) + (run ? this.take(run) : 0);
          break;
        }
        for (; k <= end; k++) {
          const i = at + ZIGZAG[k];
          if (coef[i] !== 0) refine(i);
          else if (--run < 0) break;
        }
        if (value && k <= 63) coef[at + ZIGZAG[k]] = value;
      }
    }
    if (this.eobRun > 0) {
      for (; k <= end; k++) {
        const i = at + ZIGZAG[k];
        if (coef[i] !== 0) refine(i);
      }
      this.eobRun--;
    }
  }
}

const ws = new Float32Array(64);
const v = new Float32Array(8);

/**
 * Dequantises and inverse-transforms one block (libjpeg's jidctflt.c, AAN) into 8×8 samples of
 * `out` at `o` with rows `stride` apart, level-shifted and clamped: columns into `ws`, then rows.
 */
function idct(coef: Int16Array, at: number, q: Float32Array, out: Uint8Array, o: number, stride: number): void {
  for (let col = 0; col < 8; col++) {
    const i = at + col;
    // A column with no AC coefficients (the common case) is its DC all the way down.
    if (coef[i + 8] === 0 && coef[i + 16] === 0 && coef[i + 24] === 0 && coef[i + 32] === 0 && coef[i + 40] === 0 && coef[i + 48] === 0 && coef[i + 56] === 0) {
      const dc = coef[i] * q[col];
      for (let r = 0; r < 64; r += 8) ws[r + col] = dc;
      continue;
    }
    for (let k = 0; k < 8; k++) v[k] = coef[i + 8 * k] * q[col + 8 * k];
    idct8();
    for (let k = 0; k < 8; k++) ws[8 * k + col] = v[k];
  }
  for (let row = 0; row < 8; row++) {
    v.set(ws.subarray(row * 8, row * 8 + 8));
    idct8();
    const at = o + row * stride;
    for (let k = 0; k < 8; k++) out[at + k] = clampByte(v[k] + 128);
  }
}

/** One 8-point inverse DCT of `v`, in place (the AAN butterflies of jidctflt.c). */
function idct8(): void {
  const t10 = v[0] + v[4];
  const t11 = v[0] - v[4];
  const t13 = v[2] + v[6];
  const t12 = (v[2] - v[6]) * Math.SQRT2 - t13;
  const e0 = t10 + t13;
  const e3 = t10 - t13;
  const e1 = t11 + t12;
  const e2 = t11 - t12;
  const z13 = v[5] + v[3];
  const z10 = v[5] - v[3];
  const z11 = v[1] + v[7];
  const z12 = v[1] - v[7];
  const o7 = z11 + z13;
  const o11 = (z11 - z13) * Math.SQRT2;
  const z5 = (z10 + z12) * 1.847759065;
  const o10 = 1.0823922 * z12 - z5;
  const o12 = -2.61312593 * z10 + z5;
  const o6 = o12 - o7;
  const o5 = o11 - o6;
  const o4 = o10 + o5;
  v[0] = e0 + o7;
  v[7] = e0 - o7;
  v[1] = e1 + o6;
  v[6] = e1 - o6;
  v[2] = e2 + o5;
  v[5] = e2 - o5;
  v[4] = e3 + o4;
  v[3] = e3 - o4;
}

/** Rounded and clamped to 0–255. */
function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0;
}
