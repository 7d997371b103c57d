import qrcode from 'qrcode-generator';

// ISO 18004 asks for 4 light modules around the code; the renderer never goes below this.
const QUIET_MODULES = 4;

/**
 * An SVG document, `size`×`size` px: a white square with the QR code of `content` (error
 * correction M, byte mode, UTF-8) centred in it. Modules are whole pixels so edges stay crisp
 * when rasterised; whatever does not divide evenly widens the quiet zone.
 * @throws when `content` does not fit in a QR code at level M (over ~2,300 bytes).
 */
export function qrSvg(content: string, size: number): string {
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
  const offset = Math.floor((size - count * cell) / 2);

  // One subpath per horizontal run of dark modules keeps the path short.
  let d = '';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; ) {
      if (!qr.isDark(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < count && qr.isDark(row, col)) col++;
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

function utf8AsBinaryString(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) out += String.fromCharCode(byte);
  return out;
}
