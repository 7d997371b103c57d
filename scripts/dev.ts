/**
 * `npm run dev`: the whole product on this machine — local D1/R2/DO worker, the admin, the
 * WeChat sandbox (with its phone page), and demo data. No network beyond loopback.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { startSandbox } from '../test/sandbox/server';
import { DEMO, seedDemo } from './demo';
import { type Child, killAllSync, spawnGroup, stopAll } from './lib/processes';
import { applyLocalMigrations, startWranglerDev } from './lib/wrangler-dev';

const WORKER_PORT = 8787;
const SANDBOX_PORT = 8788;
const ADMIN_PORT = 5173;

function vars(): Record<string, string> {
  if (!existsSync('.dev.vars')) copyFileSync('.dev.vars.example', '.dev.vars');
  return Object.fromEntries(
    readFileSync('.dev.vars', 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
}

/** Prints a child's output line by line under its name, stderr to stderr. */
const printAs = (name: string) => (chunk: Buffer, stream: 'stdout' | 'stderr') => {
  const lines = chunk
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((l) => `[${name}] ${l}`)
    .join('\n');
  if (stream === 'stdout') console.log(lines);
  else console.error(lines);
};

let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  await stopAll();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
// The children run in their own process groups: never leave them behind.
process.on('exit', killAllSync);

/** One part stopping on its own stops everything. */
function stopAllWith(child: Child) {
  void child.exited.then((code) => {
    if (stopping) return;
    console.error(`[${child.name}] exited with ${code}; stopping everything`);
    void shutdown(code ?? 1);
  });
}

async function main() {
  const v = vars();
  console.log('Applying D1 migrations to the local database…');
  console.log(await applyLocalMigrations());

  const sandbox = startSandbox({
    port: SANDBOX_PORT,
    componentAppid: 'wx0000000000component',
    componentSecret: v.WECHAT_COMPONENT_SECRET,
    componentToken: v.WECHAT_COMPONENT_TOKEN,
    aesKey: v.WECHAT_COMPONENT_AES_KEY,
    workerUrl: `http://127.0.0.1:${WORKER_PORT}`,
  });
  if (existsSync('admin/package.json')) {
    stopAllWith(
      spawnGroup('admin', 'npm', ['run', 'dev', '-w', 'admin'], {
        env: { ...process.env, API_BASE: `http://127.0.0.1:${WORKER_PORT}` },
        onOutput: printAs('admin'),
      }),
    );
  }
  const worker = await startWranglerDev({ port: WORKER_PORT, onOutput: printAs('worker') });
  stopAllWith(worker.child);

  await sandbox.pushTicket();
  // WeChat pushes a fresh verify ticket every 10 minutes.
  setInterval(() => sandbox.pushTicket().catch((e) => console.error('[sandbox] ticket push failed', e)), 10 * 60_000);
  await seedDemo(`http://127.0.0.1:${WORKER_PORT}`, sandbox);

  console.log(`
  任务宝 on the edge is running:
    admin    http://localhost:${ADMIN_PORT}   (operator ${DEMO.username} / ${DEMO.password})
    phone    http://127.0.0.1:${SANDBOX_PORT}/phone   (play a fan: send「${DEMO.keyword}」to ${DEMO.accountName})
    worker   http://127.0.0.1:${WORKER_PORT}   (API document at /api/openapi.json)
`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  void shutdown(1);
});
