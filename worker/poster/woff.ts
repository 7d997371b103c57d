import { inflateSync } from 'node:zlib';

/** What a font can draw and how wide: code point → advance width, in font units. */
export interface FontMetrics {
  unitsPerEm: number;
  advances: Map<number, number>;
}

/**
 * The WOFF 1.0 font as the plain sfnt (TrueType/OpenType) file it wraps: each table inflated
 * natively (`inflateSync` comes with workerd's `nodejs_compat`), checksums kept as stored.
 * Satori would otherwise inflate the WOFF in JavaScript on a fresh isolate's first poster, which
 * costs about as much as the rest of its font parsing together.
 */
export function woffToSfnt(woff: ArrayBuffer): ArrayBuffer {
  const bytes = new Uint8Array(woff);
  const dir = new DataView(woff);
  if (dir.getUint32(0) !== 0x774f4646) throw new Error('poster font: not a WOFF 1.0 file');
  const count = dir.getUint16(12);
  const tables = Array.from({ length: count }, (_, i) => {
    const entry = 44 + i * 20;
    const offset = dir.getUint32(entry + 4);
    const compressed = dir.getUint32(entry + 8);
    const original = dir.getUint32(entry + 12);
    const stored = bytes.subarray(offset, offset + compressed);
    // WOFF stores a table uncompressed when zlib would not make it smaller.
    const data = compressed < original ? new Uint8Array(inflateSync(stored)) : stored;
    return { tag: dir.getUint32(entry), checksum: dir.getUint32(entry + 16), data };
  });
  const padded = (length: number) => (length + 3) & ~3;
  const headerBytes = 12 + 16 * count;
  const sfnt = new Uint8Array(tables.reduce((size, t) => size + padded(t.data.byteLength), headerBytes));
  const out = new DataView(sfnt.buffer);
  out.setUint32(0, dir.getUint32(4)); // the flavour: TrueType or CFF outlines
  out.setUint16(4, count);
  // searchRange, entrySelector and rangeShift describe a binary search over the table records.
  const power = 2 ** Math.floor(Math.log2(count));
  out.setUint16(6, power * 16);
  out.setUint16(8, Math.log2(power));
  out.setUint16(10, count * 16 - power * 16);
  let position = headerBytes;
  tables.forEach((table, i) => {
    const record = 12 + 16 * i;
    out.setUint32(record, table.tag);
    out.setUint32(record + 4, table.checksum);
    out.setUint32(record + 8, position);
    out.setUint32(record + 12, table.data.byteLength);
    sfnt.set(table.data, position);
    position += padded(table.data.byteLength);
  });
  return sfnt.buffer;
}

/**
 * Reads code-point coverage (`cmap` formats 4 and 12, which the bundled Noto fonts use) and
 * advance widths (`hmtx`) from an sfnt font (see {@link woffToSfnt}). Synchronous on purpose, so
 * `missingGlyphs` can be a plain predicate.
 */
export function readFontMetrics(font: ArrayBuffer): FontMetrics {
  const head = sfntTable(font, 'head');
  const hhea = sfntTable(font, 'hhea');
  const hmtx = sfntTable(font, 'hmtx');
  const unitsPerEm = head.getUint16(18);
  const longMetrics = hhea.getUint16(34);
  // Glyphs past the last long metric share its advance (monospaced tails).
  const advanceOf = (glyph: number) => hmtx.getUint16(Math.min(glyph, longMetrics - 1) * 4);

  const advances = new Map<number, number>();
  forEachMapping(sfntTable(font, 'cmap'), (cp, glyph) => {
    // Glyph 0 is .notdef: mapped to it means "drawn as tofu".
    if (glyph !== 0 && !advances.has(cp)) advances.set(cp, advanceOf(glyph));
  });
  if (advances.size === 0) throw new Error('poster font: cmap has no format 4/12 subtable');
  return { unitsPerEm, advances };
}

function sfntTable(font: ArrayBuffer, tag: string): DataView {
  const dir = new DataView(font);
  const tables = dir.getUint16(4);
  for (let i = 0; i < tables; i++) {
    const record = 12 + i * 16;
    if (String.fromCharCode(...new Uint8Array(font, record, 4)) !== tag) continue;
    return new DataView(font, dir.getUint32(record + 8), dir.getUint32(record + 12));
  }
  throw new Error(`poster font: no ${tag} table`);
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
