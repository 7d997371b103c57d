import { init as initSatori } from 'satori/standalone';
import yogaWasm from 'satori/yoga.wasm';
import { initWasm as initResvg } from '@resvg/resvg-wasm';
import resvgWasm from '@resvg/resvg-wasm/index_bg.wasm';
import encodeMozjpeg, { init as initMozjpeg } from '@jsquash/jpeg/encode.js';
import mozjpegWasm from '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm';

// The .wasm imports arrive as compiled WebAssembly.Module objects (wrangler's CompiledWasm rule),
// so nothing is fetched at runtime. Each engine is instantiated once per isolate; the promise is
// kept, so concurrent first renders share one initialisation.

let layoutReady: Promise<void> | undefined;
let rasterReady: Promise<void> | undefined;
let jpegReady: Promise<void> | undefined;

/** Satori's layout engine (yoga). Resolves once per isolate. */
export function ensureLayoutEngine(): Promise<void> {
  return (layoutReady ??= initSatori(yogaWasm).catch((cause) => {
    throw loud('satori could not initialise yoga.wasm (satori/standalone init)', cause);
  }));
}

/** resvg, which rasterises satori's SVG. Resolves once per isolate. */
export function ensureRasterEngine(): Promise<void> {
  return (rasterReady ??= initResvg(resvgWasm).catch((cause) => {
    throw loud('resvg-wasm could not initialise index_bg.wasm (initWasm)', cause);
  }));
}

/** Encodes RGBA pixels as a progressive, Huffman-optimised mozjpeg JPEG. */
export async function encodeJpeg(rgba: Uint8Array, width: number, height: number, quality: number): Promise<Uint8Array> {
  // @jsquash/jpeg only reads data/width/height, so a plain object stands in for ImageData,
  // which workerd does not have.
  const image = { data: new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength), width, height };
  try {
    // The published typings omit the (module, overrides) overload that init implements.
    await (jpegReady ??= (initMozjpeg as (module: WebAssembly.Module) => Promise<void>)(mozjpegWasm));
    return new Uint8Array(await encodeMozjpeg(image as Parameters<typeof encodeMozjpeg>[0], { quality }));
  } catch (cause) {
    // init only starts instantiation; a broken mozjpeg_enc.wasm surfaces here, on first encode.
    throw loud(`mozjpeg (@jsquash/jpeg, mozjpeg_enc.wasm) failed to instantiate or encode ${width}×${height}`, cause);
  }
}

function loud(what: string, cause: unknown): Error {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Error(`poster: ${what}: ${detail}`, { cause });
}
