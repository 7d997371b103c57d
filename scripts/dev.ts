/**
 * `npm run dev`: the whole product on this machine — local D1/R2/DO worker, the admin, the
 * WeChat sandbox (with its phone page), and demo data. No network beyond loopback.
 *
 * Quiet until everything answers: the children's start-up output is kept (and printed only if
 * the start fails), the banner comes once the worker, the admin and the sandbox all answer, and
 * from then on their output is shown as it comes. Should any part stop on its own, every other
 * one is stopped too.
 */
import { appendFileSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { startSandbox } from '../test/sandbox/server';
import { DEMO, seedDemo } from './demo';
import { type Child, killAllSync, spawnGroup, stopAll, stopAllIfItExits, waitForHttp } from './lib/processes';
import { applyLocalMigrations, startWranglerDev } from './lib/wrangler-dev';

const WORKER_PORT = 8787;
const SANDBOX_PORT = 8788;
const ADMIN_PORT = 5173;
/** Beside the worker's local D1, R2 and Durable Objects: deleting .wrangler/state starts both over. */
const SANDBOX_STATE = '.wrangler/state/sandbox.json';

const parseVars = (file: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );

/**
 * `.dev.vars`, made from `.dev.vars.example` when missing. Variables added to the example since
 * a copy was made are appended to it, so an older checkout's copy keeps working.
 */
function vars(): Record<string, string> {
  if (!existsSync('.dev.vars')) copyFileSync('.dev.vars.example', '.dev.vars');
  const example = parseVars('.dev.vars.example');
  const own = parseVars('.dev.vars');
  const missing = Object.keys(example).filter((k) => !(k in own));
  if (missing.length) {
    appendFileSync('.dev.vars', `\n# Added by npm run dev from .dev.vars.example\n${missing.map((k) => `${k}=${example[k]}`).join('\n')}\n`);
    console.log(`Added ${missing.join(', ')} to .dev.vars (from .dev.vars.example)`);
  }
  return { ...example, ...own };
}

/** Once everything answers, the children's output is shown as it comes. */
let live = false;

/** Prints a child's output line by line under its name, stderr to stderr, once the stack is up. */
const printAs = (name: string) => (chunk: Buffer, stream: 'stdout' | 'stderr') => {
  if (!live) return;
  const lines = chunk
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((l) => `[${name}] ${l}`)
    .join('\n');
  if (stream === 'stdout') console.log(lines);
  else console.error(lines);
};

/** wrangler's report of `d1 migrations apply` (a table per migration) in one line. */
function migrationSummary(report: string): string {
  if (/No migrations to apply/i.test(report)) return 'D1 migrations: up to date';
  const names = [...new Set(report.match(/\d{4}_[\w-]+\.sql/g) ?? [])];
  return `D1 migrations: applied ${names.length} (${names[0]}${names.length > 1 ? ` … ${names.at(-1)}` : ''})`;
}

let stopping = false;
let sandbox: ReturnType<typeof startSandbox> | undefined;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  sandbox?.save();
  await stopAll();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
// The children run in their own process groups: never leave them behind.
process.on('exit', killAllSync);

/** One part stopping on its own stops everything, saying which (with its last words, if they were not shown yet). */
const together = (child: Child) =>
  stopAllIfItExits(child, (gone, code, how) => {
    if (stopping) return;
    console.error(`${how}: every other part is stopped too.${live ? '' : ` Its last output:\n${gone.log.slice(-30).join('\n')}`}`);
    void shutdown(code || 1);
  });

async function main() {
  const v = vars();
  console.log('Starting 任务宝 on the edge (worker, admin, WeChat sandbox)…');
  console.log(migrationSummary(await applyLocalMigrations()));

  sandbox = startSandbox({
    port: SANDBOX_PORT,
    componentAppid: 'wx0000000000component',
    componentSecret: v.WECHAT_COMPONENT_SECRET,
    componentToken: v.WECHAT_COMPONENT_TOKEN,
    aesKey: v.WECHAT_COMPONENT_AES_KEY,
    workerUrl: `http://127.0.0.1:${WORKER_PORT}`,
    stateFile: SANDBOX_STATE,
  });
  const admin = together(
    spawnGroup('admin', 'npm', ['run', 'dev', '-w', 'admin'], {
      // The admin's server tells the API its browsers' addresses with the secret the worker shares.
      env: { ...process.env, API_BASE: `http://127.0.0.1:${WORKER_PORT}`, ADMIN_API_SECRET: v.ADMIN_API_SECRET },
      onOutput: printAs('admin'),
    }),
  );
  const worker = await startWranglerDev({ port: WORKER_PORT, onOutput: printAs('worker') });
  together(worker.child);

  await sandbox.pushTicket();
  // WeChat pushes a fresh verify ticket every 10 minutes.
  setInterval(() => sandbox?.pushTicket().catch((e) => console.error('[sandbox] ticket push failed', e)), 10 * 60_000);
  const password = await seedDemo(worker.url, sandbox);
  await Promise.all([waitForHttp(`http://localhost:${ADMIN_PORT}/login`, admin, 120_000), waitForHttp(`http://127.0.0.1:${SANDBOX_PORT}/phone`, null, 10_000)]);

  live = true;
  console.log(`
  任务宝 on the edge is running:
    admin    http://localhost:${ADMIN_PORT}   (operator ${DEMO.username} / ${password})
    phone    http://127.0.0.1:${SANDBOX_PORT}/phone   (play a fan: send「${DEMO.keyword}」to ${DEMO.accountName}; friends scan from the same page)
    worker   http://127.0.0.1:${WORKER_PORT}   (an index of what it serves; API document at /api/openapi.json)
  Ctrl-C stops everything. Sandbox state is kept in ${SANDBOX_STATE}; delete .wrangler/state to start over.
`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  void shutdown(1);
});
