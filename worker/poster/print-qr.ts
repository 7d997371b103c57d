/**
 * A promo code ready to print: the QR code with the channel's name under it, as a PNG that says
 * its print resolution, in a few physical sizes.
 */
import { ensureLayoutEngine, ensureRasterEngine } from './engines';
import { encodePng } from './png';
import { qrPixels } from './qr';
import { paintOver, rasterisePixels } from './raster';
import { renderTextSvg } from './render';
import { setRule } from './rule';

/** The sizes offered, by the printed QR's edge in cm. Pixels are capped, so the largest prints at ~200 dpi (a QR's modules stay sharp). */
export const PRINT_SIZES = [8, 12, 20] as const;
export type PrintSize = (typeof PRINT_SIZES)[number];
const DPI = 300;
const MAX_EDGE = 1600;

/** The edge in px and the resolution a size prints at. */
export function printGeometry(cm: PrintSize): { edge: number; dpi: number } {
  const edge = Math.min(MAX_EDGE, Math.round((cm / 2.54) * DPI));
  return { edge, dpi: Math.round((edge / cm) * 2.54) };
}

/**
 * The QR code of `content`, `cm` wide, with `caption` centred under it (set smaller when long, cut
 * with "…" only past that), black on white.
 */
export async function renderPrintQr(content: string, caption: string, cm: PrintSize): Promise<Uint8Array> {
  await Promise.all([ensureLayoutEngine(), ensureRasterEngine()]);
  const { edge, dpi } = printGeometry(cm);
  const fontSize = Math.round(edge * 0.07);
  const band = fontSize * 2;
  const canvas = { pixels: new Uint8Array(edge * (edge + band) * 4).fill(255), width: edge, height: edge + band };
  paintOver(canvas, { ...qrPixels(content, edge), x: 0, y: 0 });
  const width = Math.round(edge * 0.9);
  const set = setRule(caption, { width, height: Math.ceil(fontSize * 1.25), fontSize });
  if (set.lines.length) {
    const { svg, margin } = await renderTextSvg(set.lines, { x: 0, y: 0, width, fontSize: set.fontSize, color: '#000000' });
    const text = rasterisePixels(svg);
    // The line is left-aligned in its SVG: centre its ink under the code.
    const ink = inkColumns(text);
    paintOver(canvas, { ...text, x: Math.round((edge - (ink.left + ink.right)) / 2), y: edge + Math.round((band - set.fontSize * 1.25) / 2) - margin });
  }
  return encodePng(canvas, dpi);
}

/** The first and last columns of a rasterised layer with anything painted. */
function inkColumns({ pixels, width, height }: { pixels: Uint8Array; width: number; height: number }): { left: number; right: number } {
  let [left, right] = [width, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[(y * width + x) * 4 + 3] === 0) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
  }
  return { left, right };
}
