/**
 * `npm run simulate`: one campaign day, compressed, against the local stack (wrangler dev on
 * /dev/shm, the sandbox in this process), with a fission curve:
 *
 * - seeds: the account announces the campaign at 9:00; SIM_SEEDS fans send the keyword by 10:00;
 * - every participant opens their poster (SIM_OPEN of them) and shares it: friends scan it and
 *   newly follow, SIM_K of them on average (the K-factor), over the hours after, fading with a time
 *   constant of SIM_TAU_H hours and following the day's rhythm (quiet at night, peaks at lunch and
 *   in the evening);
 * - a friend who followed joins in turn (sends the keyword) with probability SIM_JOIN, a few
 *   minutes later, and shares their own poster;
 * - the day (24 h) runs in SIM_DAY_S seconds; at most SIM_MAX_ASSISTS assists are played.
 *
 * Every action is the real request: keyword pushes, the poster's web-OAuth page (a render),
 * subscribe pushes. It reports the peak per-activity rate, D1's growth (bytes and rows, per assist
 * and per participant), R2's (posters), the D1 and queue traffic the worker metered, and the queue
 * lag: from each assist's answer to its note settled in message_log.
 */
import './lib/quiet';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { freePort, sleep, stopAll } from '../scripts/lib/processes';
import { applyLocalMigrations, ROOT, startWranglerDev } from '../scripts/lib/wrangler-dev';
import { fanMessage } from '../test/sandbox/pushes';
import { signState } from '../worker/lib/signed-token';
import { benchTraffic, d1Bytes } from './callbacks';
import { Api, authorizeAccount, createActivity, pushFan, registerOperator, SECRETS, startBenchSandbox, uploadBackground } from './lib/flow';
import { mb, table } from './lib/report';
import { round, summarize } from './lib/stats';
import { d1File, workerdCpu, writeEnvFile } from './lib/worker';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DAY_S = num('SIM_DAY_S', 120);
const SEEDS = num('SIM_SEEDS', 100);
const K = num('SIM_K', 3);
const JOIN = num('SIM_JOIN', 0.45);
const OPEN = num('SIM_OPEN', 0.85);
const TAU_H = num('SIM_TAU_H', 3);
const MAX_ASSISTS = num('SIM_MAX_ASSISTS', 4000);
const CONCURRENCY = num('SIM_CONCURRENCY', 32);
const SEED = num('SIM_SEED', 20261203);

/** Relative activity by hour of day (Asia/Shanghai): night, morning, lunch peak, afternoon, evening peak. */
const HOURLY = [0.15, 0.08, 0.05, 0.04, 0.04, 0.08, 0.25, 0.55, 0.8, 0.9, 0.95, 1.3, 2.2, 1.9, 1.0, 0.9, 0.95, 1.1, 1.4, 1.8, 2.5, 2.4, 1.6, 0.6];
const PEAK = Math.max(...HOURLY);
const HOUR_MS = (DAY_S * 1000) / 24;

/** A small deterministic PRNG, so a run can be repeated. */
let state = SEED;
const random = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 32;
};
const poisson = (mean: number) => {
  let n = 0;
  for (let p = Math.exp(-mean), s = p, u = random(); u > s; n++) s += p *= mean / (n + 1);
  return n;
};
const between = (lo: number, hi: number) => lo + (hi - lo) * random();

/** A time after `from` (hours), exponential with time constant τ and thinned by the day's rhythm; null past midnight. */
function shareTime(from: number): number | null {
  for (let t = from; ; ) {
    t += -Math.log(1 - random()) * TAU_H;
    if (t >= 24) return null;
    if (random() < HOURLY[Math.floor(t)] / PEAK) return t;
  }
}

interface Action {
  /** Simulated hour of day. */
  at: number;
  kind: 'join' | 'open' | 'assist';
  fan: string;
  /** For an assist: the poster owner's row. */
  ownerRow?: number;
}

/** A min-heap of actions by time. */
class Agenda {
  private items: Action[] = [];
  get size() {
    return this.items.length;
  }
  push(a: Action) {
    const h = this.items;
    h.push(a);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  peek(): Action | undefined {
    return this.items[0];
  }
  pop(): Action {
    const h = this.items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < h.length && h[l].at < h[m].at) m = l;
        if (r < h.length && h[r].at < h[m].at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

/** Bytes of the files under a directory (du), or 0 when it does not exist. */
function bytesUnder(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return 0;
  }
}

async function main() {
  const load = loadavg();
  const base = process.env.BENCH_STATE_DIR ?? '/dev/shm';
  const tmp = mkdtempSync(join(base.length ? base : tmpdir(), 'task-treasure-sim-'));
  const persistDir = join(tmp, 'state');
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  await applyLocalMigrations(persistDir);
  const sandboxPort = await freePort();
  const workerPort = await freePort();
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const sandbox = startBenchSandbox(sandboxPort, `http://127.0.0.1:${workerPort}`);
  const worker = await startWranglerDev({
    port: workerPort,
    persistDir,
    envFile: writeEnvFile(join(tmp, 'secrets.env'), { ...SECRETS }),
    vars: {
      BENCH_ROUTES: '1',
      WECHAT_API_BASE: sandboxUrl,
      WECHAT_OPEN_BASE: sandboxUrl,
      WECHAT_MP_BASE: sandboxUrl,
      PUBLIC_BASE_URL: `http://127.0.0.1:${workerPort}`,
      ADMIN_ORIGIN: `http://127.0.0.1:${workerPort}`,
    },
    logLevel: 'warn',
  });
  try {
    await sandbox.pushTicket();
    const api = new Api(worker.url, (await registerOperator(worker.url, `sim${Date.now().toString(36)}`)).token);
    const account = await authorizeAccount(api, sandboxUrl, '模拟服务号');
    const background = await uploadBackground(api);
    const keyword = `sim${Date.now().toString(36).slice(-5)}`;
    const activity = await createActivity(api, account.appid, background, keyword, [
      { level: 1, number: 3, good: '优惠券' },
      { level: 2, number: 10, good: '保温杯' },
      { level: 3, number: 30, good: '蓝牙耳机' },
    ]);
    const d1 = new DatabaseSync(d1File(persistDir), { readOnly: true });
    const rowOf = d1.prepare('SELECT id FROM take_part_in WHERE activity_id = ? AND open_id = ? AND part_in = 0');
    const posters = join(persistDir, 'v3/r2');
    const before = { d1: await d1Bytes(persistDir), r2: bytesUnder(posters), traffic: await benchTraffic(worker.url), cpu: workerdCpu(worker) };

    const agenda = new Agenda();
    for (let i = 0; i < SEEDS; i++) agenda.push({ at: between(9, 10), kind: 'join', fan: `o_seed_${i}` });
    let planned = 0;
    let helperSeq = 0;
    const answered = new Map<string, number>();
    const counts = { joins: 0, opens: 0, assists: 0, errors: 0 };
    const errors: string[] = [];
    const latencies: number[] = [];
    const perSecond = new Map<number, number>();
    const byHour = Array.from({ length: 24 }, () => ({ joins: 0, opens: 0, assists: 0 }));
    const t0 = Date.now();
    const hourNow = () => (Date.now() - t0) / HOUR_MS;

    const act = async (a: Action) => {
      const started = Date.now();
      const hour = byHour[Math.min(23, Math.floor(a.at))];
      if (a.kind === 'join') {
        await fetch(`${sandboxUrl}/__sandbox/fans`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ appid: account.appid, openid: a.fan, interaction: 'message', following: true }),
        });
        const r = await pushFan(
          worker.url,
          account,
          fanMessage({
            ghId: account.ghId,
            openId: a.fan,
            createTime: Math.floor(Date.now() / 1000),
            type: 'text',
            content: keyword,
            msgId: `${Date.now()}${String(helperSeq++).padStart(6, '0')}`,
          }),
        );
        if (r.status !== 200) throw new Error(`join: ${r.status} ${r.body.slice(0, 120)}`);
        counts.joins++;
        hour.joins++;
        if (random() < OPEN) agenda.push({ at: a.at + between(1, 10) / 60, kind: 'open', fan: a.fan });
      } else if (a.kind === 'open') {
        const row = (rowOf.get(activity.id, a.fan) as { id: number } | undefined)?.id;
        if (!row) throw new Error(`open: no row for ${a.fan}`);
        const { code } = (await (
          await fetch(`${sandboxUrl}/__sandbox/oauth-code`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ appid: account.appid, openid: a.fan }),
          })
        ).json()) as { code: string };
        const state = await signState(SECRETS.SESSION_SECRET, row);
        const page = await fetch(`${worker.url}/oauth/callback?${new URLSearchParams({ code, state, appid: account.appid })}`);
        await page.arrayBuffer();
        if (page.status !== 200) throw new Error(`open: ${page.status}`);
        counts.opens++;
        hour.opens++;
        for (let n = poisson(K); n > 0 && planned < MAX_ASSISTS; n--) {
          const at = shareTime(a.at);
          if (at === null) continue;
          planned++;
          agenda.push({ at, kind: 'assist', fan: `o_friend_${helperSeq++}`, ownerRow: row });
        }
      } else {
        const createTime = Math.floor(Date.now() / 1000);
        const r = await pushFan(
          worker.url,
          account,
          fanMessage({ ghId: account.ghId, openId: a.fan, createTime, type: 'subscribe', scene: `1_${a.ownerRow}` }),
        );
        if (r.status !== 200 || !r.body.startsWith('<xml>')) throw new Error(`assist: ${r.status} ${r.body.slice(0, 120)}`);
        answered.set(a.fan, Date.now());
        counts.assists++;
        hour.assists++;
        const second = Math.floor((Date.now() - t0) / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
        latencies.push(Date.now() - started);
        if (random() < JOIN) agenda.push({ at: a.at + between(2, 20) / 60, kind: 'join', fan: a.fan });
      }
    };

    console.log(`[sim] a day in ${DAY_S} s: ${SEEDS} seeds, K ${K}, join ${JOIN}, poster opened ${OPEN}, τ ${TAU_H} h, at most ${MAX_ASSISTS} assists…`);
    const inFlight = new Set<Promise<void>>();
    while (agenda.size || inFlight.size) {
      const next = agenda.peek();
      if (next && next.at <= hourNow() && inFlight.size < CONCURRENCY) {
        const a = agenda.pop();
        const p: Promise<void> = act(a)
          .catch((e) => {
            counts.errors++;
            if (errors.length < 5) errors.push(String(e).slice(0, 200));
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        continue;
      }
      const wait = next && inFlight.size < CONCURRENCY ? Math.max(1, (next.at - hourNow()) * HOUR_MS) : 5;
      await Promise.race([sleep(Math.min(wait, 50)), ...inFlight]);
    }
    const dayWall = (Date.now() - t0) / 1000;

    // The queue's tail: wait until every note is settled (or nothing moves for 15 s).
    const notes = d1.prepare(`SELECT idempotency_key AS key, updated_at AS at FROM message_log WHERE idempotency_key LIKE '%:notify' AND status != 'sending'`);
    let settled = notes.all() as { key: string; at: number }[];
    for (let last = settled.length, since = Date.now(); settled.length < counts.assists && Date.now() - since < 15_000; ) {
      await sleep(500);
      settled = notes.all() as { key: string; at: number }[];
      if (settled.length !== last) [last, since] = [settled.length, Date.now()];
    }
    const after = { d1: await d1Bytes(persistDir), r2: bytesUnder(posters), traffic: await benchTraffic(worker.url), cpu: workerdCpu(worker) };
    const rows = d1
      .prepare(
        `SELECT (SELECT count(*) FROM take_part_in WHERE activity_id = ${activity.id}) AS take_part_in, (SELECT count(*) FROM account_fan) AS account_fan,
         (SELECT count(*) FROM message_log) AS message_log, (SELECT count(*) FROM service_window) AS service_window, (SELECT count(*) FROM message_dedup) AS message_dedup,
         (SELECT count(*) FROM fan_name_gram) AS fan_name_gram, (SELECT coalesce(sum(number), 0) FROM take_part_in WHERE activity_id = ${activity.id} AND part_in = 0) AS assists_counted`,
      )
      .get() as Record<string, number>;
    d1.close();

    // Queue lag: each assist's answer to its note settled (the helper is in the note's key).
    const lags = settled.flatMap((n) => {
      const helper = n.key.split(':')[2];
      const at = answered.get(helper);
      return at === undefined ? [] : [n.at - at];
    });
    const lag = summarize(lags);
    const peak = Math.max(0, ...perSecond.values());
    const peakAt = [...perSecond.entries()].find(([, n]) => n === peak)?.[0] ?? 0;
    const participants = counts.joins;
    const perAssist = (n: number) => (counts.assists ? n / counts.assists : NaN);
    const trafficDelta = (k: keyof typeof after.traffic) => after.traffic[k] - before.traffic[k];
    const cpuMs = after.cpu && before.cpu ? (after.cpu.runtime - before.cpu.runtime) * 1000 : NaN;

    console.log(
      table(
        `Simulated day by hour (Asia/Shanghai), ${DAY_S} s of wall time`,
        ['hour', 'joins', 'posters', 'assists', ''],
        byHour.map((h, i) => [
          `${String(i).padStart(2, '0')}:00`,
          h.joins,
          h.opens,
          h.assists,
          '#'.repeat(Math.round(h.assists / Math.max(1, counts.assists / 120))),
        ]),
      ),
    );
    const report: (string | number)[][] = [
      [
        'participants (sent the keyword) / posters opened / assists',
        `${participants} / ${counts.opens} / ${counts.assists} (Σ number in D1: ${rows.assists_counted})`,
      ],
      ['effective reproduction (assists per poster × join rate)', round((counts.assists / Math.max(1, counts.opens)) * JOIN, 2)],
      ['errors', `${counts.errors}${errors.length ? `: ${errors.join(' | ')}` : ''}`],
      ['peak per-activity rate (1 s buckets, wall time)', `${peak} assists/s at ${round(peakAt / (DAY_S / 24), 1)} h simulated`],
      ['mean rate over the day (wall time)', `${round(counts.assists / dayWall, 1)} assists/s`],
      ['push answer latency median / p99', `${round(summarize(latencies).median)} / ${round(summarize(latencies).p99)} ms`],
      ['queue lag (assist answered → note settled) median / p95 / max', `${round(lag.median)} / ${round(lag.p95)} / ${round(lag.max)} ms over ${lag.n} notes`],
      [
        'D1 growth',
        `${mb(after.d1 - before.d1)}: ${round(perAssist(after.d1 - before.d1))} bytes per assist, ${round((after.d1 - before.d1) / Math.max(1, participants))} per participant`,
      ],
      [
        'D1 rows at the end',
        Object.entries(rows)
          .filter(([k]) => k !== 'assists_counted')
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ],
      [
        'R2 growth (posters; the background before)',
        `${mb(after.r2 - before.r2)}: ${round((after.r2 - before.r2) / Math.max(1, counts.opens) / 1024, 1)} KB per poster`,
      ],
      [
        'metered per assist (everything included: joins, posters, notes)',
        `${round(perAssist(trafficDelta('statements')), 2)} D1 statements, ${round(perAssist(trafficDelta('rowsWritten')), 1)} D1 rows written, ${round(perAssist(trafficDelta('rowsRead')), 1)} read, ${round(perAssist(trafficDelta('objectRowsWritten')), 1)} counter SQLite rows written, ${round(perAssist(trafficDelta('queueMessages')), 3)} queue messages`,
      ],
      ['workerd runtime CPU per assist (everything included)', `${round(perAssist(cpuMs), 2)} ms`],
      [
        'load average at start / end',
        `${load.map((l) => l.toFixed(2)).join(' / ')} → ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' / ')}`,
      ],
    ];
    console.log(table('Campaign day: what the local stack saw', ['figure', 'value'], report));
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench/results/simulate.json'),
      `${JSON.stringify(
        {
          generated_at: new Date().toISOString(),
          settings: { day_s: DAY_S, seeds: SEEDS, k: K, join: JOIN, open: OPEN, tau_h: TAU_H, max_assists: MAX_ASSISTS, concurrency: CONCURRENCY, seed: SEED },
          counts,
          errors,
          by_hour: byHour,
          peak_assists_per_s: peak,
          queue_lag_ms: lag,
          d1_bytes: after.d1 - before.d1,
          r2_bytes: after.r2 - before.r2,
          rows,
          traffic: { before: before.traffic, after: after.traffic },
          cpu_ms: cpuMs,
        },
        null,
        2,
      )}\n`,
    );
    console.log('wrote bench/results/simulate.json');
  } finally {
    await worker.stop();
    await sandbox.close();
  }
}

main()
  .catch(async (e) => {
    console.error('simulate failed:', e instanceof Error ? (e.stack ?? e.message) : e);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    process.exit();
  });
