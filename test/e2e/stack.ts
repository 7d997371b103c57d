/**
 * Starts the whole product on loopback for a browser test: the worker (`wrangler dev` with its own
 * state folder and migrations), the WeChat sandbox pointed at it, and the admin (vite dev) talking
 * to it. Every port is picked free, so this runs beside `npm run dev`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../sandbox/server';
import { TEST_SECRETS } from '../sandbox/test-config';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const wranglerBin = join(root, 'node_modules/wrangler/bin/wrangler.js');
const viteBin = join(root, 'node_modules/vite/bin/vite.js');

export interface Stack {
  workerUrl: string;
  sandboxUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** A child process whose output is kept (and shown when it fails to start). */
function launch(name: string, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stopping it also stops what it spawned (workerd, esbuild).
    detached: true,
  });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
    if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${d}`);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, name, log: () => log };
}

type Launched = ReturnType<typeof launch>;

function run(name: string, args: string[], cwd: string, env?: Record<string, string>): Promise<void> {
  const p = launch(name, args, { cwd, env });
  return new Promise((res, rej) => {
    p.child.once('exit', (code) => (code === 0 ? res() : rej(new Error(`${name} exited with ${code}\n${p.log()}`))));
  });
}

async function stopProcess(p: Launched) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  try {
    process.kill(-p.child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-p.child.pid!, 'SIGKILL');
    } catch {
      // Already gone between the check and the kill.
    }
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(url: string, p: Launched, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode} before answering\n${p.log()}`);
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status < 500) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${p.name} did not answer ${url} within ${timeoutMs / 1000}s\n${p.log()}`);
}

export async function startStack(): Promise<Stack> {
  const [workerPort, sandboxPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  // localhost, not 127.0.0.1: browsers treat it as a secure context, so the Secure session cookie sticks.
  const adminUrl = `http://localhost:${adminPort}`;
  const state = await mkdtemp(join(tmpdir(), 'e2e-worker-'));
  const started: Launched[] = [];
  let sandbox: ReturnType<typeof startSandbox> | undefined;

  const stop = async () => {
    await Promise.all(started.map(stopProcess));
    await sandbox?.close();
    await rm(state, { recursive: true, force: true });
  };

  try {
    const wranglerEnv = { WRANGLER_SEND_METRICS: 'false', CI: 'true' };
    await run('migrations', [wranglerBin, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state], root, wranglerEnv);

    const vars = {
      ...TEST_SECRETS,
      WECHAT_API_BASE: sandboxUrl,
      WECHAT_OPEN_BASE: sandboxUrl,
      WECHAT_MP_BASE: sandboxUrl,
      PUBLIC_BASE_URL: workerUrl,
      ADMIN_ORIGIN: adminUrl,
    };
    const worker = launch(
      'worker',
      [wranglerBin, 'dev', '--port', String(workerPort), '--ip', '127.0.0.1', '--persist-to', state, '--inspector-port', String(await freePort()), ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
      { cwd: root, env: wranglerEnv },
    );
    started.push(worker);

    sandbox = startSandbox({
      port: sandboxPort,
      componentAppid: TEST_SECRETS.WECHAT_COMPONENT_APPID,
      componentSecret: TEST_SECRETS.WECHAT_COMPONENT_SECRET,
      componentToken: TEST_SECRETS.WECHAT_COMPONENT_TOKEN,
      aesKey: TEST_SECRETS.WECHAT_COMPONENT_AES_KEY,
      workerUrl,
    });

    const admin = launch('admin', [viteBin, 'dev', '--port', String(adminPort), '--strictPort', '--host', 'localhost'], {
      cwd: join(root, 'admin'),
      env: { API_BASE: workerUrl },
    });
    started.push(admin);

    await Promise.all([waitFor(`${workerUrl}/api/openapi.json`, worker, 90_000), waitFor(`${adminUrl}/login`, admin, 90_000)]);
    // WeChat pushes a verify ticket every 10 minutes; the worker needs one before it can ask for tokens.
    await sandbox.pushTicket();
    return { workerUrl, sandboxUrl, adminUrl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
