/**
 * Starts the whole product on loopback for a browser test: the worker (`wrangler dev` with its own
 * state folder and migrations), the WeChat sandbox pointed at it, and the admin (vite dev) talking
 * to it. Every port is picked free, so this runs beside `npm run dev`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnGroup, stopAll, waitForHttp } from '../../scripts/lib/processes';
import { applyLocalMigrations, ROOT, startWranglerDev } from '../../scripts/lib/wrangler-dev';
import { startSandbox } from '../sandbox/server';
import { TEST_SECRETS } from '../sandbox/test-config';

const viteBin = join(ROOT, 'node_modules/vite/bin/vite.js');

export interface Stack {
  workerUrl: string;
  sandboxUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}

/** E2E_VERBOSE=1 prints what the worker and the admin print. */
const echo = (name: string) => (process.env.E2E_VERBOSE ? (d: Buffer) => process.stderr.write(`[${name}] ${d}`) : undefined);

export async function startStack(): Promise<Stack> {
  const [workerPort, sandboxPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  // localhost, not 127.0.0.1: browsers treat it as a secure context, so the Secure session cookie sticks.
  const adminUrl = `http://localhost:${adminPort}`;
  const state = await mkdtemp(join(tmpdir(), 'e2e-worker-'));
  let sandbox: ReturnType<typeof startSandbox> | undefined;

  const stop = async () => {
    // Everything this process started: the worker and the admin, started or starting.
    await stopAll();
    await sandbox?.close();
    await rm(state, { recursive: true, force: true });
  };

  try {
    await applyLocalMigrations(state);
    sandbox = startSandbox({
      port: sandboxPort,
      componentAppid: TEST_SECRETS.WECHAT_COMPONENT_APPID,
      componentSecret: TEST_SECRETS.WECHAT_COMPONENT_SECRET,
      componentToken: TEST_SECRETS.WECHAT_COMPONENT_TOKEN,
      aesKey: TEST_SECRETS.WECHAT_COMPONENT_AES_KEY,
      workerUrl,
    });
    const admin = spawnGroup('admin', process.execPath, [viteBin, 'dev', '--port', String(adminPort), '--strictPort', '--host', 'localhost'], {
      cwd: join(ROOT, 'admin'),
      env: { ...process.env, API_BASE: workerUrl, ADMIN_API_SECRET: TEST_SECRETS.ADMIN_API_SECRET },
      onOutput: echo('admin'),
    });
    const vars = {
      ...TEST_SECRETS,
      WECHAT_API_BASE: sandboxUrl,
      WECHAT_OPEN_BASE: sandboxUrl,
      WECHAT_MP_BASE: sandboxUrl,
      PUBLIC_BASE_URL: workerUrl,
      ADMIN_ORIGIN: adminUrl,
    };
    await Promise.all([
      startWranglerDev({ port: workerPort, persistDir: state, vars, inspectorPort: await freePort(), timeoutMs: 90_000, onOutput: echo('worker') }),
      waitForHttp(`${adminUrl}/login`, admin, 90_000),
    ]);
    // WeChat pushes a verify ticket every 10 minutes; the worker needs one before it can ask for tokens.
    await sandbox.pushTicket();
    return { workerUrl, sandboxUrl, adminUrl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
