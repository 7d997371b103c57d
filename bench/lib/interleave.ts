/**
 * Side-by-side comparisons that hold on a shared, noisy machine: the two sides run in alternating
 * short slices (A B, B A, A B, …: who goes first swaps each pair, so neither side always meets the
 * machine warmer), and a verdict rests on the per-pair ratios — their median, with the spread —
 * instead of on two long runs minutes apart. A machine that slows down or speeds up mid-run moves
 * both halves of a pair alike, so the ratio of a pair stays put while the absolute figures swing.
 *
 * Usage, for any "A vs B in the same run":
 *   const runs = await interleave(6, () => slice(reference), () => slice(ours));
 *   const cpu = pairedRatios(runs.b.map((r) => r.cpuMs), runs.a.map((r) => r.cpuMs));
 *   console.log(`ours / reference CPU: ${formatRatio(cpu)}`);
 */
import { percentile } from './stats';

/** What each side returned, slice by slice, in pair order. */
export interface Interleaved<A, B> {
  a: A[];
  b: B[];
}

/** Runs `pairs` pairs of slices, alternating which side goes first. */
export async function interleave<A, B>(pairs: number, a: () => Promise<A>, b: () => Promise<B>): Promise<Interleaved<A, B>> {
  const out: Interleaved<A, B> = { a: [], b: [] };
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}

/** The per-pair ratios numerator[i] / denominator[i], summarised. */
export interface RatioSummary {
  ratios: number[];
  median: number;
  /** The middle half of the ratios (25th–75th percentile) and their whole range. */
  p25: number;
  p75: number;
  min: number;
  max: number;
}

export function pairedRatios(numerator: number[], denominator: number[]): RatioSummary {
  const ratios = numerator.map((n, i) => n / denominator[i]).filter(Number.isFinite);
  const sorted = [...ratios].sort((x, y) => x - y);
  // The median of an even count is the mean of the middle two (percentile() takes the lower).
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { ratios, median, p25: percentile(sorted, 25), p75: percentile(sorted, 75), min: sorted[0], max: sorted[sorted.length - 1] };
}

/** `1.83 (middle half 1.71–1.95, all 1.62–2.10, 6 pairs)`. */
export function formatRatio(r: RatioSummary, digits = 2): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  return `${f(r.median)} (middle half ${f(r.p25)}–${f(r.p75)}, all ${f(r.min)}–${f(r.max)}, ${r.ratios.length} pairs)`;
}
