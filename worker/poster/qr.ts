import qrcode from 'qrcode-generator';
import type { Pixels } from './engines';

// ISO 18004 asks for 4 light modules around the code; the renderer never goes below this.
const QUIET_MODULES = 4;

/** A QR code laid out on a `size`×`size` px square: `count` modules of `cell` px from `offset`. */
interface QrGrid {
  count: number;
  cell: number;
  offset: number;
  isDark(row: number, col: number): boolean;
}

/**
 * The QR code of `content` (error correction M, byte mode, UTF-8) centred in a `size`×`size`
 * square. Modules are whole pixels so edges stay crisp; whatever does not divide evenly widens
 * the quiet zone.
 * @throws when `content` does not fit in a QR code at level M (over ~2,300 bytes).
 */
function qrGrid(content: string, size: number): QrGrid {
  const qr = qrcode(0, 'M');
  // qrcode-generator's byte mode keeps only the low 8 bits of each UTF-16 unit; feeding it the
  // UTF-8 bytes as one char each makes non-ASCII content (e.g. Chinese promo codes) round-trip.
  qr.addData(utf8AsBinaryString(content), 'Byte');
  try {
    qr.make();
  } catch (cause) {
    throw new Error(`poster: QR content too long for one code (${content.length} chars)`, { cause });
  }
  const count = qr.getModuleCount();
  const cell = Math.max(1, Math.floor(size / (count + 2 * QUIET_MODULES)));
  return { count, cell, offset: Math.floor((size - count * cell) / 2), isDark: (row, col) => qr.isDark(row, col) };
}

/** An SVG document, `size`×`size` px: a white square with the QR code of `content` (see {@link qrGrid}). */
export function qrSvg(content: string, size: number): string {
  const { count, cell, offset, isDark } = qrGrid(content, size);
  // One subpath per horizontal run of dark modules keeps the path short.
  let d = '';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; ) {
      if (!isDark(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < count && isDark(row, col)) col++;
      d += `M${start} ${row}h${col - start}v1h${start - col}z`;
    }
  }

  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">` +
    `<rect width="${size}" height="${size}" fill="#ffffff"/>` +
    `<path transform="translate(${offset} ${offset}) scale(${cell})" d="${d}" fill="#000000" shape-rendering="crispEdges"/>` +
    `</svg>`
  );
}

/**
 * The same white square and QR code as {@link qrSvg}, as opaque RGBA pixels: modules are whole
 * pixels, so there is nothing to rasterise.
 */
export function qrPixels(content: string, size: number): Pixels {
  const { count, cell, offset, isDark } = qrGrid(content, size);
  const pixels = new Uint8Array(size * size * 4).fill(255);
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (!isDark(row, col)) continue;
      for (let y = offset + row * cell; y < offset + (row + 1) * cell; y++) {
        const start = (y * size + offset + col * cell) * 4;
        for (let i = start; i < start + cell * 4; i += 4) pixels[i] = pixels[i + 1] = pixels[i + 2] = 0;
      }
    }
  }
  return { pixels, width: size, height: size };
}

function utf8AsBinaryString(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) out += String.fromCharCode(byte);
  return out;
}
