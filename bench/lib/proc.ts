/**
 * Child processes the bench starts, and only those: each runs in its own process group so that
 * stopping it also stops what it spawned (wrangler → workerd), and every one is stopped on exit.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Last ~200 lines of stdout + stderr, for error reports and log parsing. */
  log: string[];
  /** Resolves when the process exited. */
  exited: Promise<number | null>;
  /** Null while running; how it ended otherwise (an exit the bench did not ask for is reported). */
  ended(): string | null;
  stop(): Promise<void>;
}

const running = new Set<Child>();

export function spawnChild(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  // BENCH_LOG_DIR=<dir> keeps every line of each child's output (for digging into a failure).
  const keep = process.env.BENCH_LOG_DIR ? join(process.env.BENCH_LOG_DIR, `${name.replace(/\W+/g, '-')}-${Date.now()}.log`) : null;
  const collect = (d: Buffer) => {
    if (keep) appendFileSync(keep, d);
    for (const line of d.toString().split('\n')) if (line.trim()) log.push(line);
    if (log.length > 400) log.splice(0, log.length - 200);
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  let stopping = false;
  const child: Child = {
    name,
    proc,
    log,
    exited,
    ended() {
      if (proc.exitCode === null && proc.signalCode === null) return null;
      const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${proc.exitCode}`;
      return stopping ? `stopped by the bench (${how})` : `${name} exited on its own or was killed from outside the bench (${how})`;
    },
    async stop() {
      stopping = true;
      running.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      signalGroup(proc, 'SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!killed) signalGroup(proc, 'SIGKILL');
      await Promise.race([exited, sleep(2000)]);
      // wrangler may exit before workerd does: make sure the group is gone.
      signalGroup(proc, 'SIGKILL');
    },
  };
  running.add(child);
  return child;
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-proc.pid!, signal);
  } catch {
    /* already gone */
  }
}

/** Stops every child still running (used by the exit and signal handlers). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/** Synchronous last resort on process exit: SIGKILL every group we started. */
export function killAllSync(): void {
  for (const c of running) signalGroup(c.proc, 'SIGKILL');
  running.clear();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion, capturing output; rejects with its output on failure. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')} exited ${code}:\n${stderr.slice(-2000)}\n${stdout.slice(-2000)}`))));
    p.stdin!.end(opts.input ?? '');
  });
}
