/**
 * The real worker under `wrangler dev` (workerd with local D1, R2, Durable Objects and the queue),
 * as `npm run dev`, the e2e stack and the bench start it: migrations applied to its state folder,
 * its own port and process group, stopped with SIGTERM, then SIGKILL after 5 s.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, freePort, run, type SpawnGroupOptions, spawnGroup, waitForHttp } from './processes';

/** The repository root. */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const BIN = join(ROOT, 'node_modules/.bin');
/** The repository's wrangler, run with the repository's Node 22 (see wranglerEnv). */
export const WRANGLER = join(BIN, 'wrangler');

/** Quiet, offline, non-interactive wrangler; node 22 from node_modules first on PATH (wrangler needs it). */
export const wranglerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${BIN}:${process.env.PATH}`,
  CI: 'true',
  WRANGLER_SEND_METRICS: 'false',
  // No network here: skip miniflare's 3 s attempt to download the Request.cf placeholder.
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  FORCE_COLOR: '0',
});

/** `--persist-to`, or nothing for wrangler's own `.wrangler/state` (what `npm run dev` keeps). */
const persistArgs = (persistDir?: string) => (persistDir ? ['--persist-to', persistDir] : []);

/** Applies the D1 migrations to the local database in `persistDir` (`.wrangler/state` when absent); resolves with wrangler's report. */
export async function applyLocalMigrations(persistDir?: string): Promise<string> {
  const { stdout } = await run(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', ...persistArgs(persistDir)], { cwd: ROOT, env: wranglerEnv() });
  return stdout;
}

export interface WranglerDevOptions {
  /** A free one when absent (a caller that must hand the URL out before the start picks its own). */
  port?: number;
  /** The state folder (`.wrangler/state` when absent). */
  persistDir?: string;
  /** `--var` values, over wrangler.toml's `[vars]`. */
  vars?: Record<string, string>;
  /** Secrets file (`--env-file`, which makes wrangler ignore `.dev.vars`). */
  envFile?: string;
  /** `--inspector-port`; wrangler's default (9229) when absent, which a second wrangler dev would collide on. */
  inspectorPort?: number;
  /** `--log-level`; at info, every request is logged. */
  logLevel?: string;
  /** Sees its output as it comes. */
  onOutput?: SpawnGroupOptions['onOutput'];
  /** How long it may take to answer; 120 s when absent. */
  timeoutMs?: number;
  /**
   * What is asked until it answers; `/api/openapi.json` when absent. The bench's cold starts ask
   * for something that warms none of the paths they measure.
   */
  readyPath?: string;
}

export interface WranglerDev {
  /** wrangler dev's URL (its dev proxy, a second workerd, forwards to the worker's own). */
  url: string;
  port: number;
  inspectorPort: number | null;
  /** Wall time from spawn until it first answered. */
  startMs: number;
  child: Child;
  stop(): Promise<void>;
}

/** Starts `wrangler dev` on loopback and resolves once `/api/openapi.json` (or `readyPath`) answers. */
export async function startWranglerDev(o: WranglerDevOptions = {}): Promise<WranglerDev> {
  const port = o.port ?? (await freePort());
  const args = [
    'dev',
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    ...persistArgs(o.persistDir),
    '--show-interactive-dev-session=false',
    ...(o.envFile ? ['--env-file', o.envFile] : []),
    ...(o.inspectorPort ? ['--inspector-port', String(o.inspectorPort)] : []),
    ...(o.logLevel ? ['--log-level', o.logLevel] : []),
    ...Object.entries(o.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
  const t0 = performance.now();
  const child = spawnGroup('wrangler dev', WRANGLER, args, { cwd: ROOT, env: wranglerEnv(), onOutput: o.onOutput });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}${o.readyPath ?? '/api/openapi.json'}`, child, o.timeoutMs ?? 120_000);
  } catch (e) {
    await child.stop();
    throw e;
  }
  return { url, port, inspectorPort: o.inspectorPort ?? null, startMs: performance.now() - t0, child, stop: () => child.stop() };
}
