import { inflateSync } from 'node:zlib';

/** A point of a glyph outline in font units (y up); `on` false marks a quadratic control point. */
interface Point {
  x: number;
  y: number;
  on: boolean;
}

// Composite glyph flags (OpenType glyf table).
const ARGS_ARE_WORDS = 0x1;
const ARGS_ARE_XY = 0x2;
const HAS_SCALE = 0x8;
const MORE_COMPONENTS = 0x20;
const HAS_XY_SCALE = 0x40;
const HAS_2X2 = 0x80;

/**
 * A TrueType-flavoured WOFF 1.0 font read only as far as a poster needs: which code points it
 * has (`cmap` formats 4 and 12, searched in place), their advances (`hmtx`), and glyph outlines
 * (`glyf`/`loca`, simple and composite) as SVG path data. Tables are inflated on first use, with
 * workerd's native zlib; nothing is parsed for characters that are never drawn, which keeps a
 * fresh isolate's first poster cheap.
 */
export class WoffFont {
  readonly unitsPerEm: number;
  /** hhea ascender and descender (descender negative), in font units. */
  readonly ascender: number;
  readonly descender: number;
  private readonly bytes: Uint8Array;
  private readonly tables = new Map<string, Uint8Array>();
  private readonly paths = new Map<number, string>();
  private readonly cmap: { view: DataView; format: number; offset: number } | null;
  private readonly longMetrics: number;
  private readonly longLoca: boolean;

  constructor(font: ArrayBuffer) {
    this.bytes = new Uint8Array(font);
    if (view(this.bytes).getUint32(0) !== 0x774f4646) throw new Error('poster font: not a WOFF 1.0 file');
    const head = view(this.table('head'));
    const hhea = view(this.table('hhea'));
    this.unitsPerEm = head.getUint16(18);
    this.longLoca = head.getInt16(50) === 1;
    this.ascender = hhea.getInt16(4);
    this.descender = hhea.getInt16(6);
    this.longMetrics = hhea.getUint16(34);
    this.cmap = findCmap(view(this.table('cmap')));
    if (!this.cmap) throw new Error('poster font: cmap has no format 4/12 subtable');
  }

  /** The glyph drawing `cp`, or 0 (.notdef: "drawn as tofu") when the font has none. */
  glyphOf(cp: number): number {
    const { view: v, format, offset } = this.cmap!;
    if (format === 12) {
      let lo = 0;
      let hi = v.getUint32(offset + 12) - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const group = offset + 16 + mid * 12;
        if (cp < v.getUint32(group)) hi = mid - 1;
        else if (cp > v.getUint32(group + 4)) lo = mid + 1;
        else return v.getUint32(group + 8) + cp - v.getUint32(group);
      }
      return 0;
    }
    if (cp > 0xffff) return 0;
    const segX2 = v.getUint16(offset + 6);
    const ends = offset + 14;
    let lo = 0;
    let hi = segX2 / 2 - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v.getUint16(ends + mid * 2) < cp) lo = mid + 1;
      else hi = mid;
    }
    const s = lo * 2;
    const start = v.getUint16(ends + segX2 + 2 + s);
    if (cp < start || cp > v.getUint16(ends + s)) return 0;
    const delta = v.getInt16(ends + segX2 * 2 + 2 + s);
    const rangeAt = ends + segX2 * 3 + 2 + s;
    const rangeOffset = v.getUint16(rangeAt);
    if (rangeOffset === 0) return (cp + delta) & 0xffff;
    const glyph = v.getUint16(rangeAt + rangeOffset + (cp - start) * 2);
    return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
  }

  /** Advance width of a glyph, in font units; glyphs past the last long metric share its advance. */
  advance(glyph: number): number {
    return view(this.table('hmtx')).getUint16(Math.min(glyph, this.longMetrics - 1) * 4);
  }

  /**
   * The glyph's outline as SVG path data in font units, y up (place it with a transform that
   * flips y); kept per glyph, as poster texts repeat their characters.
   */
  path(glyph: number): string {
    let d = this.paths.get(glyph);
    if (d === undefined) {
      d = this.outline(glyph);
      this.paths.set(glyph, d);
    }
    return d;
  }

  private outline(glyph: number): string {
    let d = '';
    for (const contour of this.contours(glyph, 0)) {
      // TrueType contours are quadratic B-splines: two control points in a row imply an on-curve
      // point halfway between them. Start from an on-curve point (or such a midpoint).
      const n = contour.length;
      const first = contour.findIndex((p) => p.on);
      const start = first >= 0 ? contour[first] : mid(contour[0], contour[1 % n]);
      const from = Math.max(first, 0);
      d += `M${start.x} ${start.y}`;
      let control: Point | null = null;
      for (let k = 1; k <= n; k++) {
        const p = contour[(from + k) % n];
        if (!p.on) {
          if (control) {
            const m = mid(control, p);
            d += `Q${control.x} ${control.y} ${m.x} ${m.y}`;
          }
          control = p;
          continue;
        }
        d += control ? `Q${control.x} ${control.y} ${p.x} ${p.y}` : `L${p.x} ${p.y}`;
        control = null;
      }
      if (control) d += `Q${control.x} ${control.y} ${start.x} ${start.y}`;
      d += 'Z';
    }
    return d;
  }

  /** A glyph's contours in font units; composite glyphs resolved (to a small depth, against loops). */
  private contours(glyph: number, depth: number): Point[][] {
    const loca = view(this.table('loca'));
    const glyf = this.table('glyf');
    const start = this.longLoca ? loca.getUint32(glyph * 4) : loca.getUint16(glyph * 2) * 2;
    const end = this.longLoca ? loca.getUint32(glyph * 4 + 4) : loca.getUint16(glyph * 2 + 2) * 2;
    if (end <= start || depth > 4) return [];
    const g = view(glyf.subarray(start, end));
    const contourCount = g.getInt16(0);
    return contourCount >= 0 ? simpleContours(g, contourCount) : this.compositeContours(g, depth);
  }

  private compositeContours(g: DataView, depth: number): Point[][] {
    const out: Point[][] = [];
    for (let at = 10, flags = MORE_COMPONENTS; flags & MORE_COMPONENTS; ) {
      flags = g.getUint16(at);
      const component = g.getUint16(at + 2);
      at += 4;
      const words = flags & ARGS_ARE_WORDS;
      const dx = words ? g.getInt16(at) : g.getInt8(at);
      const dy = words ? g.getInt16(at + 2) : g.getInt8(at + 1);
      at += words ? 4 : 2;
      let [a, b, c, e] = [1, 0, 0, 1];
      const f2dot14 = (o: number) => g.getInt16(o) / 16384;
      if (flags & HAS_SCALE) {
        a = e = f2dot14(at);
        at += 2;
      } else if (flags & HAS_XY_SCALE) {
        [a, e] = [f2dot14(at), f2dot14(at + 2)];
        at += 4;
      } else if (flags & HAS_2X2) {
        [a, b, c, e] = [f2dot14(at), f2dot14(at + 2), f2dot14(at + 4), f2dot14(at + 6)];
        at += 8;
      }
      // Components placed by matching points (not offsets) are left where they are.
      const [ox, oy] = flags & ARGS_ARE_XY ? [dx, dy] : [0, 0];
      for (const contour of this.contours(component, depth + 1)) {
        out.push(contour.map((p) => ({ x: a * p.x + c * p.y + ox, y: b * p.x + e * p.y + oy, on: p.on })));
      }
    }
    return out;
  }

  private table(tag: string): Uint8Array {
    let table = this.tables.get(tag);
    if (!table) {
      table = woffTable(this.bytes, tag);
      this.tables.set(tag, table);
    }
    return table;
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function mid(a: Point, b: Point): Point {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, on: true };
}

function woffTable(bytes: Uint8Array, tag: string): Uint8Array {
  const dir = view(bytes);
  const tables = dir.getUint16(12);
  for (let i = 0; i < tables; i++) {
    const entry = 44 + i * 20;
    if (String.fromCharCode(...bytes.subarray(entry, entry + 4)) !== tag) continue;
    const offset = dir.getUint32(entry + 4);
    const compressed = dir.getUint32(entry + 8);
    const original = dir.getUint32(entry + 12);
    const data = bytes.subarray(offset, offset + compressed);
    // WOFF stores a table uncompressed when zlib would not make it smaller.
    return compressed < original ? new Uint8Array(inflateSync(data)) : data;
  }
  throw new Error(`poster font: WOFF has no ${tag} table`);
}

/** The first format 12 subtable (all of Unicode, where emoji live), else the first format 4 one. */
function findCmap(cmap: DataView): { view: DataView; format: number; offset: number } | null {
  const offsets = Array.from({ length: cmap.getUint16(2) }, (_, i) => cmap.getUint32(8 + i * 8));
  const offset = offsets.find((o) => cmap.getUint16(o) === 12) ?? offsets.find((o) => cmap.getUint16(o) === 4);
  return offset === undefined ? null : { view: cmap, format: cmap.getUint16(offset), offset };
}

// Simple glyph flags.
const ON_CURVE = 0x1;
const X_SHORT = 0x2;
const Y_SHORT = 0x4;
const REPEAT = 0x8;
const X_SAME_OR_POSITIVE = 0x10;
const Y_SAME_OR_POSITIVE = 0x20;

function simpleContours(g: DataView, contourCount: number): Point[][] {
  const ends = Array.from({ length: contourCount }, (_, i) => g.getUint16(10 + i * 2));
  const count = contourCount ? ends[contourCount - 1] + 1 : 0;
  let at = 10 + contourCount * 2;
  at += 2 + g.getUint16(at);
  const flags = new Uint8Array(count);
  for (let i = 0; i < count; ) {
    const flag = g.getUint8(at++);
    flags[i++] = flag;
    if (flag & REPEAT) for (let r = g.getUint8(at++); r > 0 && i < count; r--) flags[i++] = flag;
  }
  const coordinate = (short: number, same: number) => {
    const values = new Int32Array(count);
    for (let i = 0, v = 0; i < count; i++) {
      const flag = flags[i];
      if (flag & short) v += flag & same ? g.getUint8(at++) : -g.getUint8(at++);
      else if (!(flag & same)) {
        v += g.getInt16(at);
        at += 2;
      }
      values[i] = v;
    }
    return values;
  };
  const xs = coordinate(X_SHORT, X_SAME_OR_POSITIVE);
  const ys = coordinate(Y_SHORT, Y_SAME_OR_POSITIVE);
  const contours: Point[][] = [];
  for (let c = 0, first = 0; c < contourCount; first = ends[c++] + 1) {
    const contour: Point[] = [];
    for (let i = first; i <= ends[c]; i++) contour.push({ x: xs[i], y: ys[i], on: (flags[i] & ON_CURVE) !== 0 });
    if (contour.length) contours.push(contour);
  }
  return contours;
}
