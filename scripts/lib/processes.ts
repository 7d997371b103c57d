/**
 * Child processes of the dev script, the e2e stack and the bench, and only those: each runs in
 * its own process group, so stopping it also stops what it spawned (wrangler → workerd, npm →
 * vite), and every one still running can be stopped on exit.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** The last ~200 lines of stdout + stderr, for error messages and log parsing. */
  log: string[];
  /** Resolves with the exit code when the process has exited. */
  exited: Promise<number | null>;
  /** Null while running; how it ended otherwise, telling an exit nobody asked for from a stop. */
  ended(): string | null;
  /** Whether `stop()` was called: an exit after that is no surprise. */
  readonly stopRequested: boolean;
  /**
   * SIGTERM to the group, SIGKILL after 5 s. Also after the leader has exited: what it started
   * (wrangler's workerd) may still be running in its group.
   */
  stop(): Promise<void>;
}

export interface SpawnGroupOptions extends Pick<SpawnOptions, 'cwd' | 'env'> {
  /** Sees every chunk of output as it comes (printing it, or keeping all of it in a file). */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

const running = new Set<Child>();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-proc.pid!, signal);
  } catch {
    // Already gone.
  }
}

/** Starts `cmd` in its own process group, keeping its last output. */
export function spawnGroup(name: string, cmd: string, args: string[], opts: SpawnGroupOptions = {}): Child {
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const collect = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
    opts.onOutput?.(d, stream);
    for (const line of d.toString().split('\n')) if (line.trim()) log.push(line);
    if (log.length > 400) log.splice(0, log.length - 200);
  };
  proc.stdout!.on('data', collect('stdout'));
  proc.stderr!.on('data', collect('stderr'));
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
      return stopping ? `${name} was stopped (${how})` : `${name} exited on its own or was killed from outside (${how})`;
    },
    get stopRequested() {
      return stopping;
    },
    async stop() {
      stopping = true;
      running.delete(child);
      if (proc.exitCode === null && proc.signalCode === null) {
        signalGroup(proc, 'SIGTERM');
        const gone = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
        if (!gone) signalGroup(proc, 'SIGKILL');
        await Promise.race([exited, sleep(2000)]);
      }
      // The leader is gone, but what it started may not be (wrangler exiting on an error leaves workerd).
      signalGroup(proc, 'SIGKILL');
    },
  };
  running.add(child);
  return child;
}

/** Stops every child still running (for exit and signal handlers). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/**
 * Ties `child` to the others: should it exit without being asked to, every child still running
 * is stopped (its process group too), then `onLoss` runs with its exit code and how it ended.
 * `npm run dev` uses it so a crashed wrangler does not leave vite and workerd behind.
 */
export function stopAllIfItExits(child: Child, onLoss: (child: Child, code: number | null, how: string) => void): Child {
  void child.exited.then(async (code) => {
    if (child.stopRequested) return;
    const how = child.ended() ?? `${child.name} exited`;
    // It is still among the running: stopping them all clears its group too.
    await stopAll();
    onLoss(child, code, how);
  });
  return child;
}

/** Synchronous last resort on process exit: SIGKILL every group still running. */
export function killAllSync(): void {
  for (const c of running) signalGroup(c.proc, 'SIGKILL');
  running.clear();
}

/**
 * Polls `url` until it answers 2xx; fails at once, with the child's last output, if the child
 * serving it exits first (`null` for a server in this process).
 */
export async function waitForHttp(url: string, child: Child | null, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child?.ended()) throw new Error(`${child.ended()} before answering ${url}:\n${child.log.slice(-40).join('\n')}`);
    try {
      // A listener that never answers must not hold the wait past its deadline.
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`${child?.name ?? url} did not answer ${url} within ${timeoutMs / 1000} s:\n${child?.log.slice(-40).join('\n') ?? ''}`);
    await sleep(200);
  }
}

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

/** Runs a command to completion, capturing its output; rejects with that output on failure. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0
        ? resolve({ stdout, stderr })
        : reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')} exited ${code}:\n${stderr.slice(-2000)}\n${stdout.slice(-2000)}`)),
    );
    p.stdin!.end(opts.input ?? '');
  });
}
