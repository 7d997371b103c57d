/**
 * scripts/lib/processes.ts, which `npm run dev` (and the e2e stack and the bench) start their
 * children with: a child that dies takes the others down, and nothing it started is left behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Child, sleep, spawnGroup, stopAll, stopAllIfItExits } from '../../scripts/lib/processes';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits until `check` holds (processes take a moment to go). */
async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 100 && !check(); i++) await sleep(50);
  if (!check()) throw new Error(`timed out: ${what}`);
}

/** A child whose shell starts `sleep 300` in its group, prints that pid, then (optionally) exits itself. */
async function leaderWithGrandchild(name: string, exitAfter: number | null): Promise<{ child: Child; grandchild: number }> {
  const script = `sleep 300 & echo $!; ${exitAfter === null ? 'wait' : `sleep ${exitAfter}; exit 3`}`;
  const child = spawnGroup(name, 'sh', ['-c', script]);
  await until(() => child.log.length > 0, 'the grandchild pid');
  return { child, grandchild: Number(child.log[0]) };
}

afterEach(async () => {
  await stopAll();
});

describe('processes', () => {
  it('stopping a child whose leader already exited still stops what it started (wrangler → workerd)', async () => {
    const { child, grandchild } = await leaderWithGrandchild('wrangler', 0);
    expect(await child.exited).toBe(3);
    expect(alive(grandchild)).toBe(true);
    await child.stop();
    await until(() => !alive(grandchild), 'the grandchild to go');
  });

  it('one child exiting on its own stops every other, their groups included, and says which', async () => {
    const worker = await leaderWithGrandchild('worker', 0.3);
    const admin = await leaderWithGrandchild('admin', null);
    const lost = new Promise<[string, number | null, string]>((resolve) => {
      for (const c of [worker.child, admin.child]) stopAllIfItExits(c, (which, code, how) => resolve([which.name, code, how]));
    });
    expect(await lost).toEqual(['worker', 3, 'worker exited on its own or was killed from outside (code 3)']);
    expect(admin.child.ended()).toMatch(/^admin was stopped/);
    for (const pid of [worker.grandchild, admin.grandchild]) await until(() => !alive(pid), `grandchild ${pid} to go`);
  });

  it('a child stopped on purpose does not set the others off', async () => {
    const a = await leaderWithGrandchild('a', null);
    const b = await leaderWithGrandchild('b', null);
    let lost = false;
    stopAllIfItExits(a.child, () => (lost = true));
    stopAllIfItExits(b.child, () => (lost = true));
    await a.child.stop();
    await sleep(200);
    expect(lost).toBe(false);
    expect(b.child.ended()).toBeNull();
  });
});
