/**
 * Benchmark 4 support — isolate memory through the V8 inspector that `wrangler dev
 * --inspector-port` exposes (wrangler's inspector proxy in front of workerd's).
 *
 * What is counted:
 * - `Runtime.getHeapUsage`: `usedSize`/`totalSize` (the JS heap, used and reserved) and
 *   `backingStorageSize` (ArrayBuffer backing stores and external strings, i.e. pixel buffers,
 *   request/response bytes). Sampled while renders run; the inspector answers between the
 *   isolate's turns, so a peak inside one synchronous stretch can be missed.
 * - WebAssembly linear memories (resvg's), which are in neither figure: found with
 *   `Runtime.queryObjects(WebAssembly.Memory.prototype)` in the worker's execution context, summing `memory.buffer.byteLength`. Wasm memory only grows, so its size
 *   after the renders is its peak.
 * Not counted: workerd's own C++ allocations outside V8 (sockets, KV/R2 plumbing), and code
 * space of compiled wasm (not part of the per-isolate limit figures V8 reports here).
 */

import { sleep } from '../scripts/lib/processes';
import { Cdp } from './lib/cdp';

export interface HeapSample {
  t: number;
  /** What the renders were doing when the sample was taken (see {@link HeapSampler.phase}). */
  phase: string;
  used: number;
  total: number;
  backing: number;
}

export class HeapSampler {
  readonly samples: HeapSample[] = [];
  private running = false;
  /** Labels the samples from now on, to tell e.g. cached-background renders from others. */
  phase = '';
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly cdp: Cdp,
    private readonly intervalMs = 10,
  ) {}

  start(): void {
    this.running = true;
    const t0 = performance.now();
    this.done = (async () => {
      while (this.running) {
        const u = await this.cdp.send<{ usedSize: number; totalSize: number; backingStorageSize?: number }>('Runtime.getHeapUsage');
        this.samples.push({ t: performance.now() - t0, phase: this.phase, used: u.usedSize, total: u.totalSize, backing: u.backingStorageSize ?? 0 });
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Peaks over all samples, or over those of one phase. */
  peak(phase?: string) {
    const samples = phase === undefined ? this.samples : this.samples.filter((s) => s.phase === phase);
    const max = (f: (s: HeapSample) => number) => samples.reduce((m, s) => Math.max(m, f(s)), 0);
    return {
      used: max((s) => s.used),
      total: max((s) => s.total),
      backing: max((s) => s.backing),
      usedPlusBacking: max((s) => s.used + s.backing),
      samples: samples.length,
    };
  }
}

/** Byte lengths of every WebAssembly.Memory alive in the worker's isolate. */
export async function wasmMemories(cdp: Cdp): Promise<number[]> {
  const context = await cdp.workerContext();
  const proto = await cdp.send<{ result: { objectId?: string }; exceptionDetails?: unknown }>('Runtime.evaluate', {
    expression: 'WebAssembly.Memory.prototype',
    contextId: context.id,
    objectGroup: 'bench',
  });
  if (!proto.result.objectId) throw new Error(`cannot reach WebAssembly.Memory.prototype: ${JSON.stringify(proto.exceptionDetails ?? proto.result)}`);
  const found = await cdp.send<{ objects: { objectId: string } }>('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId, objectGroup: 'bench' });
  const sizes = await cdp.send<{ result: { value: number[] } }>('Runtime.callFunctionOn', {
    objectId: found.objects.objectId,
    functionDeclaration: 'function () { return this.map((m) => m.buffer.byteLength); }',
    returnByValue: true,
  });
  await cdp.send('Runtime.releaseObjectGroup', { objectGroup: 'bench' }).catch(() => undefined);
  return sizes.result.value;
}

export interface MemoryResult {
  peak: ReturnType<HeapSampler['peak']>;
  /** The same peaks per phase of the work, in order. */
  phases: { name: string; peak: ReturnType<HeapSampler['peak']> }[];
  /** After HeapProfiler.collectGarbage once the renders are done: what stays live. */
  afterGc: { used: number; total: number; backing: number } | null;
  wasmBefore: number[];
  wasm: number[] | null;
  wasmError?: string;
  /** Observed peak: peak(JS used + backing stores, uncollected garbage included) + wasm. */
  estimate: number | null;
  /** Live floor: after-GC JS used + backing stores + wasm. */
  floor: number | null;
  /** Total wasm memory before and after the `lasting` work, run last because what it grows stays. */
  lasting: { before: number; after: number } | null;
}

/**
 * Runs `work` (the renders) with the heap sampled throughout, then reads wasm memory and the
 * after-GC heap. `work` names its phases by calling `phase`; samples before the first call belong
 * to `firstPhase`.
 */
export async function measureMemory<T>(
  inspectorPort: number,
  workerUrl: string,
  firstPhase: string,
  work: (phase: (name: string) => void) => Promise<T>,
  lasting?: () => Promise<unknown>,
): Promise<{ result: T; memory: MemoryResult }> {
  const cdp = await Cdp.connect(inspectorPort);
  try {
    const sampler = new HeapSampler(cdp);
    const wasmBefore = await wasmMemories(cdp).catch(() => []);
    const phases = [firstPhase];
    sampler.phase = firstPhase;
    sampler.start();
    const result = await work((name) => {
      phases.push(name);
      sampler.phase = name;
    }).finally(() => sampler.stop());
    let wasm: number[] | null = null;
    let wasmError: string | undefined;
    try {
      wasm = await wasmMemories(cdp);
    } catch (e) {
      wasmError = `wasm memory not readable: ${String(e).slice(0, 200)}`;
    }
    let afterGc: MemoryResult['afterGc'] = null;
    try {
      // collectGarbage is only answered once the isolate runs again: enable, ask, then poke it.
      await cdp.send('HeapProfiler.enable', {}, 10_000);
      const gc = cdp.send('HeapProfiler.collectGarbage', {}, 15_000);
      await fetch(`${workerUrl}/api/openapi.json`).then((r) => r.arrayBuffer());
      await gc;
      const u = await cdp.send<{ usedSize: number; totalSize: number; backingStorageSize?: number }>('Runtime.getHeapUsage');
      afterGc = { used: u.usedSize, total: u.totalSize, backing: u.backingStorageSize ?? 0 };
    } catch {
      /* reported as n/a */
    }
    const peak = sampler.peak();
    const wasmTotal = wasm?.reduce((a, b) => a + b, 0) ?? null;
    let lastingWasm: MemoryResult['lasting'] = null;
    if (lasting && wasmTotal !== null) {
      await lasting();
      lastingWasm = { before: wasmTotal, after: (await wasmMemories(cdp)).reduce((a, b) => a + b, 0) };
    }
    return {
      result,
      memory: {
        peak,
        phases: phases.map((name) => ({ name, peak: sampler.peak(name) })),
        afterGc,
        wasmBefore,
        wasm,
        wasmError,
        estimate: wasmTotal === null ? null : peak.usedPlusBacking + wasmTotal,
        floor: wasmTotal === null || !afterGc ? null : afterGc.used + afterGc.backing + wasmTotal,
        lasting: lastingWasm,
      },
    };
  } finally {
    cdp.close();
  }
}
