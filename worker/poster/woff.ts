import { inflateSync } from 'node:zlib';

/** What a font can draw and how wide: code point → advance width, in font units. */
export interface FontMetrics {
  unitsPerEm: number;
  advances: Map<number, number>;
}

/**
 * Reads code-point coverage (`cmap` formats 4 and 12, which the bundled Noto fonts use) and
 * advance widths (`hmtx`) from a WOFF 1.0 font. Synchronous on purpose, so `missingGlyphs` can be
 * a plain predicate; `inflateSync` comes with workerd's `nodejs_compat`.
 */
export function readWoffMetrics(font: ArrayBuffer): FontMetrics {
  const bytes = new Uint8Array(font);
  const head = view(woffTable(bytes, 'head'));
  const hhea = view(woffTable(bytes, 'hhea'));
  const hmtx = view(woffTable(bytes, 'hmtx'));
  const unitsPerEm = head.getUint16(18);
  const longMetrics = hhea.getUint16(34);
  // Glyphs past the last long metric share its advance (monospaced tails).
  const advanceOf = (glyph: number) => hmtx.getUint16(Math.min(glyph, longMetrics - 1) * 4);

  const advances = new Map<number, number>();
  forEachMapping(view(woffTable(bytes, 'cmap')), (cp, glyph) => {
    // Glyph 0 is .notdef: mapped to it means "drawn as tofu".
    if (glyph !== 0 && !advances.has(cp)) advances.set(cp, advanceOf(glyph));
  });
  if (advances.size === 0) throw new Error('poster font: cmap has no format 4/12 subtable');
  return { unitsPerEm, advances };
}

function view(table: Uint8Array): DataView {
  return new DataView(table.buffer, table.byteOffset, table.byteLength);
}

function woffTable(bytes: Uint8Array, tag: string): Uint8Array {
  const dir = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dir.getUint32(0) !== 0x774f4646) throw new Error('poster font: not a WOFF 1.0 file');
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

function forEachMapping(cmap: DataView, visit: (cp: number, glyph: number) => void): void {
  const subtables = cmap.getUint16(2);
  for (let i = 0; i < subtables; i++) {
    const offset = cmap.getUint32(8 + i * 8);
    const format = cmap.getUint16(offset);
    if (format === 4) readFormat4(cmap, offset, visit);
    else if (format === 12) readFormat12(cmap, offset, visit);
  }
}

/** Segment mapping to delta values (BMP only). */
function readFormat4(cmap: DataView, offset: number, visit: (cp: number, glyph: number) => void): void {
  const segX2 = cmap.getUint16(offset + 6);
  const ends = offset + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const rangeOffsets = deltas + segX2;
  for (let s = 0; s < segX2; s += 2) {
    const end = cmap.getUint16(ends + s);
    const start = cmap.getUint16(starts + s);
    const delta = cmap.getInt16(deltas + s);
    const rangeOffset = cmap.getUint16(rangeOffsets + s);
    for (let cp = start; cp <= end && cp !== 0xffff; cp++) {
      if (rangeOffset === 0) {
        visit(cp, (cp + delta) & 0xffff);
        continue;
      }
      const glyph = cmap.getUint16(rangeOffsets + s + rangeOffset + (cp - start) * 2);
      visit(cp, glyph === 0 ? 0 : (glyph + delta) & 0xffff);
    }
  }
}

/** Segmented coverage over all of Unicode (where emoji live). */
function readFormat12(cmap: DataView, offset: number, visit: (cp: number, glyph: number) => void): void {
  const groups = cmap.getUint32(offset + 12);
  for (let g = 0; g < groups; g++) {
    const group = offset + 16 + g * 12;
    const start = cmap.getUint32(group);
    const end = cmap.getUint32(group + 4);
    const firstGlyph = cmap.getUint32(group + 8);
    for (let cp = start; cp <= end; cp++) visit(cp, firstGlyph + cp - start);
  }
}
