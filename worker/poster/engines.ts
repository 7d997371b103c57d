import { initWasm as initResvg } from '@resvg/resvg-wasm';
import resvgWasm from '@resvg/resvg-wasm/index_bg.wasm';
import { init as initSatori } from 'satori/standalone';
import yogaWasm from 'satori/yoga.wasm';

// The .wasm imports arrive as compiled WebAssembly.Module objects (wrangler's CompiledWasm rule),
// so nothing is fetched at runtime. Each engine is instantiated once per isolate; the promise is
// kept, so concurrent first renders share one initialisation.

let layoutReady: Promise<void> | undefined;
let rasterReady: Promise<void> | undefined;

/** Satori's layout engine (yoga). Resolves once per isolate. */
export function ensureLayoutEngine(): Promise<void> {
  return (layoutReady ??= initSatori(yogaWasm).catch((cause) => {
    throw loud('satori could not initialise yoga.wasm (satori/standalone init)', cause);
  }));
}

/** resvg, which rasterises satori's text, the default avatar and promo QR codes. Resolves once per isolate. */
export function ensureRasterEngine(): Promise<void> {
  return (rasterReady ??= initResvg(resvgWasm).catch((cause) => {
    throw loud('resvg-wasm could not initialise index_bg.wasm (initWasm)', cause);
  }));
}

/** Raw RGBA pixels, row-major, 4 bytes per pixel. */
export interface Pixels {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/**
 * Gives the buffer decoded or scaled pixels are written to, `bytes` long, all of it overwritten:
 * lets a caller refill a buffer it is done with instead of leaving garbage. By default a new one.
 */
export type PixelOutput = (bytes: number) => Uint8Array;

export const newPixels: PixelOutput = (bytes) => new Uint8Array(bytes);

function loud(what: string, cause: unknown): Error {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Error(`poster: ${what}: ${detail}`, { cause });
}
