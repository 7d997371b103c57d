/**
 * The real worker under `wrangler dev` (workerd, local D1/R2/DO/Queue), on its own port and its
 * own `--persist-to` directory, so the bench never touches `.wrangler/state` or a dev server.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, run, sleep, spawnChild, type Child } from './proc';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const WRANGLER = join(BIN, 'wrangler');

/** Quiet, offline, non-interactive wrangler; node 22 from node_modules first on PATH. */
export const wranglerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${BIN}:${process.env.PATH}`,
  CI: 'true',
  WRANGLER_SEND_METRICS: 'false',
  // No network here: skip miniflare's 3 s attempt to download the Request.cf placeholder.
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  FORCE_COLOR: '0',
});

/** Writes the secrets file passed with `--env-file` (which makes wrangler ignore `.dev.vars`). */
export function writeEnvFile(path: string, secrets: Record<string, string>): string {
  writeFileSync(path, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return path;
}

export async function applyMigrations(persistDir: string): Promise<void> {
  await run(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistDir], { cwd: ROOT, env: wranglerEnv() });
}

/** Runs SQL against the local D1 through wrangler (as an operator would); returns the rows. */
export async function d1Execute<T = Record<string, unknown>>(persistDir: string, sql: string): Promise<T[]> {
  const { stdout } = await run(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', persistDir, '--command', sql, '--json'], { cwd: ROOT, env: wranglerEnv() });
  const parsed = JSON.parse(stdout.slice(stdout.indexOf('['))) as { results: T[] }[];
  return parsed.flatMap((r) => r.results);
}

/** The SQLite file behind the local D1 binding. */
export function d1File(persistDir: string): string {
  const dir = join(persistDir, 'v3/d1/miniflare-D1DatabaseObject');
  const files = readdirSync(dir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  if (files.length !== 1) throw new Error(`expected one D1 database in ${dir}, found ${files.join(', ') || 'none'}`);
  return join(dir, files[0]);
}

/** CPU seconds used so far by wrangler dev's two workerd processes (Linux /proc; null elsewhere). */
export interface WorkerdCpu {
  /** The runtime running the worker, its Durable Objects, local D1, R2 and the queue: one thread. */
  runtime: number;
  /** wrangler dev's proxy, which forwards every request to the runtime. */
  proxy: number;
}

export function workerdCpu(worker: Worker): WorkerdCpu | null {
  if (!existsSync('/proc/self/stat')) return null;
  const procs = readdirSync('/proc').flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      // utime + stime, in clock ticks (100 per second on Linux).
      return [{ pid: Number(pid), ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / 100, cmdline }];
    } catch {
      return [];
    }
  });
  const ours = new Set([worker.child.proc.pid]);
  // wrangler's descendants: a process whose parent is ours is ours, until nothing is added.
  for (let before = 0; before !== ours.size; ) {
    before = ours.size;
    for (const p of procs) if (ours.has(p.ppid)) ours.add(p.pid);
  }
  const workerds = procs.filter((p) => ours.has(p.pid) && p.cmdline[0].endsWith('/workerd'));
  const proxy = workerds.filter((p) => p.cmdline.includes(`--socket-addr=entry=127.0.0.1:${worker.port}`));
  const runtime = workerds.filter((p) => !proxy.includes(p));
  if (proxy.length !== 1 || runtime.length !== 1) return null;
  return { runtime: runtime[0].cpu, proxy: proxy[0].cpu };
}

export interface WorkerOptions {
  /** Fixed port (the sandbox needs the worker's URL before it starts); a free one otherwise. */
  port?: number;
  persistDir: string;
  envFile: string;
  vars: Record<string, string>;
  inspector?: boolean;
}

export interface Worker {
  /** wrangler dev's port (its dev proxy, a second workerd, forwards to the worker's own). */
  url: string;
  port: number;
  inspectorPort: number | null;
  /** Wall time from spawn until the first request answered. */
  startMs: number;
  child: Child;
  stop(): Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const port = o.port ?? (await freePort());
  const inspectorPort = o.inspector ? await freePort() : null;
  const args = [
    'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', o.persistDir, '--env-file', o.envFile,
    // warn: at info, every request is logged through a loopback call to wrangler's node process,
    // which caps wrangler dev at ~150 requests/s here.
    '--show-interactive-dev-session=false', '--log-level', process.env.BENCH_WRANGLER_LOG ?? 'warn',
    ...Object.entries(o.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
    ...(inspectorPort ? ['--inspector-port', String(inspectorPort)] : []),
  ];
  const t0 = performance.now();
  const child = spawnChild('wrangler dev', WRANGLER, args, { cwd: ROOT, env: wranglerEnv() });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`wrangler dev exited ${child.proc.exitCode}:\n${child.log.slice(-40).join('\n')}`);
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(`wrangler dev did not answer within 120 s:\n${child.log.slice(-40).join('\n')}`);
    }
    try {
      const res = await fetch(`${url}/api/openapi.json`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  return {
    url,
    port,
    inspectorPort,
    startMs: performance.now() - t0,
    child,
    stop: () => child.stop(),
  };
}
