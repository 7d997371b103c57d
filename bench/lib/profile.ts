/**
 * Where a piece of work spent its CPU, from a V8 CPU profile (`Profiler.start`/`stop` through the
 * inspector): each sample goes to the first category any frame of its stack matches, from the
 * innermost frame out, so a sample inside resvg called from the text layer counts as text.
 *
 * A sample's time is the wall time since the one before, which on a busy machine includes spells
 * the thread was not running at all (one 170 ms "sample" was seen); each counts for at most four
 * sampling intervals. Use the result as shares of a CPU time measured otherwise.
 */
import type { Cdp } from './cdp';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A category: its name and the function names that belong to it. */
export type Category = [name: string, functions: RegExp];

/** Time per category in ms, largest first; idle time left out, unmatched samples as `rest`. */
export function attribute(profile: CpuProfile, categories: Category[], rest: string, intervalUs: number): { name: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, string | null>();
  const classify = (leaf: number): string | null => {
    const known = categoryOf.get(leaf);
    if (known !== undefined) return known;
    let found: string | null = rest;
    if (byId.get(leaf)?.callFrame.functionName === '(idle)') found = null;
    else
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
        const name = byId.get(id)?.callFrame.functionName ?? '';
        const match = categories.find(([, re]) => re.test(name));
        if (match) {
          found = match[0];
          break;
        }
      }
    categoryOf.set(leaf, found);
    return found;
  };
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const category = classify(id);
    if (category) ms.set(category, (ms.get(category) ?? 0) + Math.min(profile.timeDeltas[i] ?? 0, 4 * intervalUs) / 1000);
  });
  return [...ms.entries()].map(([name, t]) => ({ name, ms: t })).sort((a, b) => b.ms - a.ms);
}

/** Profiles `work` in the worker's isolate, sampling every `intervalUs`. */
export async function profiled<T>(cdp: Cdp, work: () => Promise<T>, intervalUs: number): Promise<{ result: T; profile: CpuProfile }> {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await cdp.send('Profiler.start');
  try {
    const result = await work();
    return { result, profile: (await cdp.send<{ profile: CpuProfile }>('Profiler.stop')).profile };
  } finally {
    await cdp.send('Profiler.disable').catch(() => undefined);
  }
}
