/**
 * What the bench needs around the worker it runs under `wrangler dev` (scripts/lib/wrangler-dev.ts,
 * on its own port and `--persist-to` directory, so the bench never touches `.wrangler/state` or a
 * dev server): its secrets file, its local D1, and the CPU its workerd processes use.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../scripts/lib/processes';
import { ROOT, WRANGLER, type WranglerDev, wranglerEnv } from '../../scripts/lib/wrangler-dev';
import { round } from './stats';

/** Writes the secrets file passed with `--env-file` (which makes wrangler ignore `.dev.vars`). */
export function writeEnvFile(path: string, secrets: Record<string, string>): string {
  writeFileSync(
    path,
    `${Object.entries(secrets)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return path;
}

/** Runs SQL against the local D1 through wrangler (as an operator would); returns the rows. */
export async function d1Execute<T = Record<string, unknown>>(persistDir: string, sql: string): Promise<T[]> {
  const { stdout } = await run(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', persistDir, '--command', sql, '--json'], {
    cwd: ROOT,
    env: wranglerEnv(),
  });
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

export function workerdCpu(worker: WranglerDev): WorkerdCpu | null {
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

/** A timed piece of work and the workerd CPU it took per request, in ms (null where /proc is missing). */
export interface Slice<T extends { sent: number }> {
  result: T;
  cpu: WorkerdCpu | null;
}

/** Runs `work` and reads the CPU wrangler dev's workerd processes spent on it, per request it sent. */
export async function withCpu<T extends { sent: number }>(worker: WranglerDev, work: () => Promise<T>): Promise<Slice<T>> {
  const before = workerdCpu(worker);
  const result = await work();
  const after = workerdCpu(worker);
  if (!before || !after || !result.sent) return { result, cpu: null };
  const perRequest = (s: number) => round((s * 1000) / result.sent, 3);
  return { result, cpu: { runtime: perRequest(after.runtime - before.runtime), proxy: perRequest(after.proxy - before.proxy) } };
}
