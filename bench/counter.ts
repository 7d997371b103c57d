/**
 * What one activity's counter takes per assist: a few seconds of new followers' pushes at one
 * activity with the CPU profiler on, and the samples inside the ActivityCounter's own work (its
 * decisions in SQLite, batching follows, the outbox rounds) divided by the assists counted. An
 * object runs one request at a time, so this bounds one campaign's assists per second; its calls
 * to D1 and the queue are waits, not its CPU, and are left out.
 */

import type { WranglerDev } from '../scripts/lib/wrangler-dev';
import { fanMessage, sealPush } from '../test/sandbox/pushes';
import { Cdp } from './lib/cdp';
import { type Account, KEYS } from './lib/flow';
import { closedLoop } from './lib/load';
import { attribute, profiled } from './lib/profile';

/** The counter's methods and what they call (worker/campaign/counter), innermost match wins. */
const COUNTER =
  /^(decideAssist|decideUnfollow|recordFollowBatches|recordFollow|flushLoop|flushRound|loadSettings|loadParticipant|settle|alarmWithin|enqueue|processed|participant|isBlack|helper|claimed|applyPlan|judgeAssist|assistNote|claimTiers|transactionSync)$/;
const SAMPLE_US = 250;

export interface CounterCpu {
  assists: number;
  /** The counter's sampled time per counted assist. */
  msPerAssist: number;
  /** Everything the isolate did per push in the same window (the worker's part included). */
  isolateMsPerPush: number;
}

export async function benchCounterCpu(worker: WranglerDev, account: Account, ownerRow: number, durationMs: number): Promise<CounterCpu> {
  const run = Date.now().toString(36);
  const sealed: { path: string; body: string }[] = [];
  for (let i = 0; i < 4000; i++) {
    const inner = fanMessage({
      ghId: account.ghId,
      openId: `o_cpu_${run}_${i}`,
      createTime: Math.floor(Date.now() / 1000),
      type: 'subscribe',
      scene: `1_${ownerRow}`,
    });
    const push = await sealPush(KEYS, account.ghId, inner);
    sealed.push({ path: `/wechat/callback/${account.appid}?${push.query}`, body: push.body });
  }
  const load = (from: number, ms: number) =>
    closedLoop({
      port: worker.port,
      concurrency: 16,
      durationMs: ms,
      next: (i) => sealed[from + i] ?? null,
      isOk: (s, b) => s === 200 && b.startsWith('<xml>'),
    });
  const warm = await load(0, 1000);
  const cdp = await Cdp.connect(worker.inspectorPort!);
  try {
    const { result, profile } = await profiled(cdp, () => load(warm.sent, durationMs), SAMPLE_US);
    const parts = attribute(profile, [['counter', COUNTER]], 'rest', SAMPLE_US);
    const counter = parts.find((p) => p.name === 'counter')?.ms ?? 0;
    const all = parts.reduce((n, p) => n + p.ms, 0);
    return { assists: result.ok, msPerAssist: counter / result.ok, isolateMsPerPush: all / result.sent };
  } finally {
    cdp.close();
  }
}
