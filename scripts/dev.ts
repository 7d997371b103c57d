/**
 * `npm run dev`: the whole product on this machine — local D1/R2/DO worker, the admin, the
 * WeChat sandbox (with its phone page), and demo data. No network beyond loopback.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { startSandbox } from '../test/sandbox/server';
import { seedDemo, DEMO } from './demo';

const WORKER_PORT = 8787;
const SANDBOX_PORT = 8788;
const ADMIN_PORT = 5173;
const children: ChildProcess[] = [];

function vars(): Record<string, string> {
  if (!existsSync('.dev.vars')) copyFileSync('.dev.vars.example', '.dev.vars');
  return Object.fromEntries(
    readFileSync('.dev.vars', 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
}

function run(name: string, cmd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).map((l) => `[${name}] ${l}`).join('\n');
  child.stdout!.on('data', (d) => console.log(prefix(d)));
  child.stderr!.on('data', (d) => console.error(prefix(d)));
  child.on('exit', (code) => {
    console.error(`[${name}] exited with ${code}; stopping everything`);
    shutdown(code ?? 1);
  });
  children.push(child);
}

function shutdown(code = 0) {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

async function waitForHttp(url: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`${url} did not come up`);
}

const v = vars();
console.log('Applying D1 migrations to the local database…');
const migrate = spawnSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local'], { stdio: 'inherit', env: { ...process.env, CI: 'true' } });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const sandbox = startSandbox({
  port: SANDBOX_PORT,
  componentAppid: 'wx0000000000component',
  componentSecret: v.WECHAT_COMPONENT_SECRET,
  componentToken: v.WECHAT_COMPONENT_TOKEN,
  aesKey: v.WECHAT_COMPONENT_AES_KEY,
  workerUrl: `http://127.0.0.1:${WORKER_PORT}`,
});
run('worker', 'wrangler', ['dev', '--port', String(WORKER_PORT), '--ip', '127.0.0.1', '--show-interactive-dev-session=false']);
if (existsSync('admin/package.json')) {
  run('admin', 'npm', ['run', 'dev', '-w', 'admin'], { API_BASE: `http://127.0.0.1:${WORKER_PORT}` });
}

await waitForHttp(`http://127.0.0.1:${WORKER_PORT}/api/openapi.json`);
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
