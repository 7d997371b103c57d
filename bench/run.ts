/**
 * `npm run bench`: every benchmark against the real worker in workerd (`wrangler dev` on its own
 * port and `--persist-to` directory) with the WeChat sandbox in this process, each side by side
 * with its reference in the same run. Prints tables, writes bench/results/latest.json, and stops
 * everything it started, whatever happens.
 *
 * Order (each step needs the machine to itself as far as we can arrange it):
 *   Pillow reference → worker #1: setup + callback throughput (reference and ours in alternating
 *   slices) → worker stopped: one D1 writer's ceiling on a copy of the database → a profiled
 *   worker: one activity counter's CPU per assist → cold starts: one fresh worker per sample →
 *   seed 1M rows, reference queries, plans → worker #2 (fresh isolate): first poster, warm
 *   posters with heap sampling, uploads, wasm memory → admin API timings.
 *
 * Knobs (for quick runs while developing): BENCH_DURATION_S (15), BENCH_PAIRS (6), BENCH_CONCURRENCY (32),
 * BENCH_ROWS (1000000), BENCH_COLD_RUNS (3), BENCH_PYTHON, BENCH_ONLY (poster,cold,callbacks,queries;
 * memory comes with poster), BENCH_STATE_DIR (/dev/shm when present).
 */
import './lib/quiet';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { freePort, killAllSync, stopAll } from '../scripts/lib/processes';
import { applyLocalMigrations, ROOT, startWranglerDev, type WranglerDev } from '../scripts/lib/wrangler-dev';
import { benchCallbacks, type CallbackResult } from './callbacks';
import { benchColdStarts, type ColdResult, coldReport, prepareColdPush } from './cold';
import { benchCounterCpu, type CounterCpu } from './counter';
import { benchD1Writer, type WriterResult } from './d1-writer';
import { Api, authorizeAccount, registerOperator, type Sandbox, SECRETS, startBenchSandbox, uploadBackground } from './lib/flow';
import { type Check, checksTable, mb, table, verdict } from './lib/report';
import { round } from './lib/stats';
import { writeEnvFile } from './lib/worker';
import { type MemoryResult, measureMemory } from './memory';
import { benchOurPoster, benchPillow, type OursPoster, type PillowResult, posterReport, UPLOAD_PHASE, WARM_PHASE } from './poster';
import { type Prepared, prepareQueries, type QueryTiming, queriesReport, timeQueries } from './queries';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const POSTER_RUNS = 30;
/** Renders of backgrounds the isolate has not rendered yet (cache misses), after the warm ones; as many uploads follow. */
const POSTER_MISSES = 5;
const MEMORY_LIMIT = 64 * 1024 * 1024;
/** A 3.0 MP picture (the upload cap) that is not a 750×1334 JPEG: decoded, then scaled to cover. */
const CAP_PICTURE = join(ROOT, 'test/fixtures/photo-2000x1500.jpg');
const ONLY = new Set((process.env.BENCH_ONLY ?? 'poster,cold,callbacks,queries').split(',').map((x) => x.trim()));

const t0 = performance.now();
// Local D1/DO/queue state on tmpfs when there is one: locally every D1 and Durable Object commit
// waits for an fsync of a SQLite file, and on this VM's disk that wait (tens to hundreds of ms
// while anything else writes) swamped every cost we control (32 vs 114 assists/s in one test).
// Production storage does not fsync a local disk per commit. BENCH_STATE_DIR overrides.
const STATE_BASE = process.env.BENCH_STATE_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const tmp = mkdtempSync(join(STATE_BASE, 'task-treasure-bench-'));
const persistDir = join(tmp, 'state');
let sandbox: Sandbox | null = null;

async function cleanup() {
  await stopAll();
  // server.close() waits for idle keep-alive sockets; do not let that hold the exit.
  await Promise.race([sandbox?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  sandbox = null;
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', () => {
  killAllSync();
  rmSync(tmp, { recursive: true, force: true });
});
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: Ctrl-C reaches this process twice (the terminal's process group, and tsx
  // relaying it), and a second default SIGINT would kill it before the cleanup ran.
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${sig}: stopping everything the bench started…`);
    void cleanup().finally(() => process.exit(130));
  });
}

const log = (msg: string) => console.log(`[bench ${round((performance.now() - t0) / 1000)} s] ${msg}`);

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const version = (pkg: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version as string;
  let workerd = '';
  try {
    workerd = execFileSync(join(ROOT, 'node_modules/.bin/workerd'), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    workerd = 'unknown';
  }
  return {
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ram_gb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    workerd: `${workerd} (npm workerd ${version('@cloudflare/workerd-linux-64')})`,
    wrangler: version('wrangler'),
    os: readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="(.*)"/)?.[1] ?? process.platform,
  };
}

function python(): string | null {
  for (const py of [process.env.BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-c', 'import sqlite3'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

function memoryReport(m: MemoryResult): { text: string; checks: Check[] } {
  const wasmTotal = m.wasm?.reduce((a, b) => a + b, 0) ?? NaN;
  // The target is about rendering; the uploads sampled after the renders are reported beside it.
  const peakOf = (rendering: boolean, f: (p: MemoryResult['peak']) => number) =>
    Math.max(0, ...m.phases.filter((p) => (p.name !== UPLOAD_PHASE) === rendering).map((p) => f(p.peak)));
  const rendering = { used: peakOf(true, (p) => p.used), backing: peakOf(true, (p) => p.backing), sum: peakOf(true, (p) => p.usedPlusBacking) };
  const uploadPeak = peakOf(false, (p) => p.usedPlusBacking) + wasmTotal;
  const uploads = m.phases.find((p) => p.name === UPLOAD_PHASE);
  const checks: Check[] = [
    {
      target: 'peak isolate memory while rendering < 64 MB',
      measured:
        m.estimate === null
          ? `JS heap + buffers ${mb(rendering.sum)}; wasm unknown`
          : `${mb(rendering.sum + wasmTotal)} (JS ${mb(rendering.used)} + buffers ${mb(rendering.backing)} + wasm ${mb(wasmTotal)})`,
      verdict: verdict(m.estimate === null ? null : rendering.sum + wasmTotal < MEMORY_LIMIT),
      note:
        m.wasmError ??
        [m.floor !== null ? `live floor after GC: ${mb(m.floor)}` : '', `while uploading (decode at upload): ${mb(uploadPeak)}`].filter(Boolean).join('; '),
    },
    {
      target: `peak isolate memory while uploading (${POSTER_MISSES} uploads in a row, decoded and coded at upload) ≤ 64 MB`,
      measured:
        m.estimate === null || !uploads ? 'not measured' : `${mb(uploadPeak)} (JS + buffers ${mb(uploads.peak.usedPlusBacking)} + wasm ${mb(wasmTotal)})`,
      verdict: verdict(m.estimate === null || !uploads ? null : uploadPeak <= MEMORY_LIMIT),
    },
  ];
  const rows: (string | number)[][] = [
    ['JS heap used (peak of samples)', mb(m.peak.used)],
    ['JS heap reserved (peak totalSize)', mb(m.peak.total)],
    ['ArrayBuffer/external backing stores (peak)', mb(m.peak.backing)],
    ['JS heap used + backing stores (peak of the sum)', mb(m.peak.usedPlusBacking)],
    [`WebAssembly linear memories before the first render`, m.wasmBefore.length ? m.wasmBefore.map(mb).join(' + ') : 'none (engines load lazily)'],
    [
      `WebAssembly linear memories after ${POSTER_RUNS + 4 + POSTER_MISSES} renders + ${POSTER_MISSES} uploads`,
      m.wasm ? `${m.wasm.map(mb).join(' + ')} = ${mb(wasmTotal)}` : `unknown: ${m.wasmError}`,
    ],
    ['after the renders + forced GC: JS used / buffers', m.afterGc ? `${mb(m.afterGc.used)} / ${mb(m.afterGc.backing)}` : 'n/a'],
    ...m.phases.map(({ name, peak }) => [`  ${name}: peak(JS used + buffers) + wasm`, m.estimate === null ? 'n/a' : mb(peak.usedPlusBacking + wasmTotal)]),
    ['observed peak while rendering: peak(JS used + buffers) + wasm', m.estimate === null ? 'n/a' : mb(rendering.sum + wasmTotal)],
    ['observed peak, uploads included', m.estimate === null ? 'n/a' : mb(m.estimate)],
    ['live floor: after-GC (JS used + buffers) + wasm', m.floor === null ? 'n/a' : mb(m.floor)],
    [
      'then one upload at the pixel cap (2000×1500 JPEG, scaled to cover): wasm before → after',
      m.lasting ? `${mb(m.lasting.before)} → ${mb(m.lasting.after)}` : 'n/a',
    ],
  ];
  return {
    text:
      table(`4. Isolate memory while rendering posters (${m.peak.samples} samples of Runtime.getHeapUsage over the poster run)`, ['figure', 'value'], rows) +
      '\n  counted: V8 heap, ArrayBuffer backing stores (pixels, bodies), wasm memory (resvg’s; wasm memory never shrinks, so its final size is its peak)' +
      "\n  not counted: workerd C++ allocations outside V8. The inspector answers only between the isolate's turns (≈ once per render here), so a peak" +
      "\n  inside a render is not seen, while garbage not yet collected is: the real peak of one render lies between the live floor + one render's buffers and the observed peak" +
      checksTable('   targets', checks),
    checks,
  };
}

async function main() {
  const info = machine();
  const loadStart = loadavg();
  console.log(
    table(
      'Machine',
      ['', ''],
      [
        ['CPU', `${info.cpu} × ${info.cores} cores`],
        ['RAM', `${info.ram_gb} GB`],
        ['OS', info.os],
        ['node', info.node],
        ['workerd', info.workerd],
        ['wrangler', info.wrangler],
        ['load average at start (1/5/15 min)', loadStart.map((l) => l.toFixed(2)).join(' / ')],
        ['local D1/DO/queue state', STATE_BASE === '/dev/shm' ? '/dev/shm (tmpfs: no disk fsync per commit)' : STATE_BASE],
      ],
    ),
  );
  if (loadStart[0] > info.cores)
    console.log(
      `  NOTE: the machine is already busy (load ${loadStart[0].toFixed(1)} on ${info.cores} cores): absolute times will be inflated; the side-by-side ratios are fairer.`,
    );

  const skipped: string[] = [];
  const py = python();

  let pillow: PillowResult | null = null;
  if (ONLY.has('poster')) {
    log(`Pillow reference (${POSTER_RUNS} runs each for PNG and JPEG)…`);
    pillow = await benchPillow(tmp, POSTER_RUNS).catch((e) => ({ available: false, reason: `Pillow script failed: ${String(e).slice(0, 300)}` }));
    if (!pillow.available) skipped.push(`poster reference (Pillow): ${pillow.reason}`);
  }

  log('applying migrations to a fresh --persist-to directory…');
  await applyLocalMigrations(persistDir);
  const sandboxPort = await freePort();
  const workerPort = await freePort();
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  sandbox = startBenchSandbox(sandboxPort, workerUrl);
  const envFile = writeEnvFile(join(tmp, 'secrets.env'), { ...SECRETS });
  const vars = {
    BENCH_ROUTES: '1',
    WECHAT_API_BASE: sandboxUrl,
    WECHAT_OPEN_BASE: sandboxUrl,
    WECHAT_MP_BASE: sandboxUrl,
    PUBLIC_BASE_URL: workerUrl,
    ADMIN_ORIGIN: workerUrl,
  };
  const start = async (inspector: boolean, readyPath?: string): Promise<WranglerDev> => {
    // BENCH_LOG_DIR=<dir> keeps every line wrangler dev prints (for digging into a failure).
    const keep = process.env.BENCH_LOG_DIR ? join(process.env.BENCH_LOG_DIR, `wrangler-dev-${Date.now()}.log`) : null;
    return startWranglerDev({
      port: workerPort,
      persistDir,
      envFile,
      vars,
      inspectorPort: inspector ? await freePort() : undefined,
      // warn: at info, every request is logged through a loopback call to wrangler's node process,
      // which caps wrangler dev at ~150 requests/s here.
      logLevel: process.env.BENCH_WRANGLER_LOG ?? 'warn',
      onOutput: keep ? (d) => appendFileSync(keep, d) : undefined,
      readyPath,
    });
  };

  let worker = await start(false);
  log(`wrangler dev #1 answered after ${round(worker.startMs / 1000)} s; setting up operator, account, background…`);
  await sandbox.pushTicket();
  const op = await registerOperator(worker.url, `bench${Date.now().toString(36)}`);
  const api = new Api(worker.url, op.token);
  const account = await authorizeAccount(api, sandboxUrl, '压测服务号');
  const background = await uploadBackground(api);
  const missBackgrounds = await Promise.all(Array.from({ length: POSTER_MISSES }, (_, i) => uploadBackground(api, i + 1)));
  const queryOp = await registerOperator(worker.url, `benchq${Date.now().toString(36)}`);
  const coldOwner = ONLY.has('cold') || ONLY.has('callbacks') ? await prepareColdPush(api, sandboxUrl, account, background) : 0;

  let callbacks: CallbackResult | null = null;
  if (ONLY.has('callbacks')) {
    log(
      `callback throughput: ${DURATION_S} s reference + ${DURATION_S} s ours in ${PAIRS} alternating pairs, then ours with prizes on and with 防刷 on, each alternating with ours, at concurrency ${CONCURRENCY}…`,
    );
    callbacks = await benchCallbacks({
      worker,
      persistDir,
      sandboxUrl,
      api,
      account,
      background,
      durationMs: DURATION_S * 1000,
      pairs: PAIRS,
      concurrency: CONCURRENCY,
      owners: 100,
    });
  }
  await worker.stop();

  let counter: CounterCpu | null = null;
  let writer: WriterResult | null = null;
  if (ONLY.has('callbacks')) {
    log('one D1 writer: the D1 work of 20,000 assists replayed on a copy of the database…');
    writer = await benchD1Writer(persistDir, tmp);
    log('one activity counter’s CPU per assist (a profiled load at one activity)…');
    const profiledWorker = await start(true, '/wechat/bench-traffic');
    try {
      counter = await benchCounterCpu(profiledWorker, account, coldOwner, 4000);
    } finally {
      await profiledWorker.stop();
    }
  }

  let cold: ColdResult | null = null;
  if (ONLY.has('cold')) {
    log(`cold starts: ${COLD_RUNS} fresh workers for a poster, ${COLD_RUNS} for a push, one profiled…`);
    cold = await benchColdStarts({
      start: (o) => start(o.inspector ?? false, o.readyPath),
      token: op.token,
      background,
      account,
      ownerRow: coldOwner,
      runs: COLD_RUNS,
      warmRuns: 10,
    });
  }

  let prepared: Prepared | null = null;
  if (ONLY.has('queries')) {
    if (py) {
      log(`seeding ${ROWS.toLocaleString('en')} take_part_in rows into the D1 file (wrangler stopped), reference queries, plans…`);
      prepared = await prepareQueries({ python: py, persistDir, tmp, userId: queryOp.id, rows: ROWS }, log);
    } else {
      skipped.push('admin queries: no python3 with sqlite3 to seed the D1 file and run the reference');
    }
  }

  // A fresh isolate: its first request after readiness is the first poster it ever renders.
  worker = await start(true);
  let ours: OursPoster | null = null;
  let memory: MemoryResult | null = null;
  if (ONLY.has('poster')) {
    log(`wrangler dev #2 answered after ${round(worker.startMs / 1000)} s: first poster of the isolate, then ${POSTER_RUNS} warm ones with the heap sampled…`);
    const api = new Api(worker.url, op.token);
    ({ result: ours, memory } = await measureMemory(
      worker.inspectorPort!,
      worker.url,
      WARM_PHASE,
      (phase) => benchOurPoster(api, background, missBackgrounds, POSTER_RUNS, phase),
      // Last, as wasm memory grown then would stay: a picture at the upload pixel cap, not poster-sized.
      () => api.json('POST', '/uploads', new Uint8Array(readFileSync(CAP_PICTURE))),
    ));
  }
  let timings: QueryTiming[] = [];
  if (prepared) {
    log(`admin API timings (${prepared.specs.length} routes)…`);
    timings = await timeQueries(new Api(worker.url, queryOp.token), prepared.specs, log, () => worker.child.ended());
  }
  await worker.stop();
  await cleanup();
  const loadEnd = loadavg();

  // ---- report ----
  const notRun = (what: string): { text: string; checks: Check[] } => ({
    text: `\n${what} — not run`,
    checks: [{ target: what, measured: 'not run', verdict: 'skipped' }],
  });
  const poster = ours && pillow ? posterReport(ours, pillow) : notRun('1. Poster render');
  const cb = callbacks ?? notRun('2. Callback throughput');
  const coldPart = cold ? coldReport(cold, pillow?.jpeg?.latency.median ?? null) : notRun('1b. Cold starts');
  const counterPart =
    counter && writer
      ? {
          text: table(
            '2b. One activity’s counter (a 4 s profiled load of new followers at one activity) and one D1 database’s writer',
            ['figure', 'value'],
            [
              ['assists counted while profiled', counter.assists],
              ['the counter’s CPU per assist (its decisions in SQLite, follows batched, outbox rounds)', `${round(counter.msPerAssist, 3)} ms`],
              ['so one campaign is bound, by its counter’s CPU alone, at', `${round(1000 / counter.msPerAssist)} assists/s`],
              ['the isolate’s sampled time per push in the same window (worker + counter)', `${round(counter.isolateMsPerPush, 3)} ms`],
              [
                `one D1 writer: the D1 work of ${writer.assists.toLocaleString('en')} assists (follows, outbox rounds, the consumer's claims and records) in node:sqlite`,
                `${round(writer.perSecond)} assists/s`,
              ],
            ],
          ),
          checks: [] as Check[],
        }
      : notRun('2b. One activity’s counter and one D1 writer');
  const queries = prepared ? queriesReport(prepared, timings) : notRun('3. Admin queries');
  const mem = memory ? memoryReport(memory) : notRun('4. Isolate memory');
  for (const part of [poster, coldPart, cb, counterPart, queries, mem]) console.log(part.text);
  const all = [
    ...poster.checks.map((c) => ({ benchmark: 'poster', ...c })),
    ...coldPart.checks.map((c) => ({ benchmark: 'cold', ...c })),
    ...cb.checks.map((c) => ({ benchmark: 'callbacks', ...c })),
    ...queries.checks.map((c) => ({ benchmark: 'queries', ...c })),
    ...mem.checks.map((c) => ({ benchmark: 'memory', ...c })),
  ];
  const summaryChecks = all.filter((c) => !(c.benchmark === 'queries' && c.target.includes(': p95')));
  console.log(
    table(
      'Summary',
      ['benchmark', 'target', 'verdict'],
      summaryChecks.map((c) => [c.benchmark, c.target, c.verdict]),
    ),
  );
  if (skipped.length) console.log(`\nSKIPPED references/benchmarks:\n${skipped.map((s) => `  - ${s}`).join('\n')}`);
  const duration = (performance.now() - t0) / 1000;
  console.log(`\nload average at end: ${loadEnd.map((l) => l.toFixed(2)).join(' / ')}; whole run ${round(duration)} s`);

  const result = {
    generated_at: new Date().toISOString(),
    duration_s: round(duration),
    machine: { ...info, load_start: loadStart, load_end: loadEnd },
    settings: {
      state_dir: STATE_BASE,
      callback_duration_s: DURATION_S,
      callback_pairs: PAIRS,
      cold_runs: COLD_RUNS,
      concurrency: CONCURRENCY,
      rows: ROWS,
      poster_runs: POSTER_RUNS,
      poster_misses: POSTER_MISSES,
      only: [...ONLY],
    },
    poster: ours ? { ours, reference: pillow } : null,
    callbacks: callbacks
      ? {
          reference: callbacks.reference,
          ours: callbacks.ours,
          variants: callbacks.variants,
          cpu_per_request_ms: callbacks.cpuPerRequestMs,
          pairs: callbacks.pairs,
          cost_per_assist: callbacks.cost,
          cost_per_join: callbacks.perJoin,
          drain_ms: callbacks.drainMs,
          counts: callbacks.counts,
        }
      : null,
    cold,
    counter,
    d1_writer: writer,
    queries:
      prepared && 'rows' in queries
        ? {
            seed: prepared.seed,
            seeded_bytes: prepared.seededBytes,
            dropped_indexes: prepared.droppedIndexes,
            reference_sqlite: 'error' in prepared.reference ? null : prepared.reference.sqlite,
            results: queries.rows,
          }
        : null,
    memory: memory ? { ...memory, limit_bytes: MEMORY_LIMIT } : null,
    checks: all,
    skipped,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/latest.json');
}

main()
  .catch(async (e) => {
    console.error('\nbench failed:', e instanceof Error ? (e.stack ?? e.message) : e);
    await cleanup();
    process.exitCode = 1;
  })
  // Keep-alive sockets of fetch would hold the process a while longer; everything is stopped.
  .finally(() => process.exit());
