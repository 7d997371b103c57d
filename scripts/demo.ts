import { readFileSync } from 'node:fs';
import { pickAccount } from '../test/sandbox/authorization-page';
import type { startSandbox } from '../test/sandbox/server';

/** The demo the README promises: an operator, an authorized account, a running activity, a promo. */
export const DEMO = {
  username: 'demo',
  password: 'mtb-sandbox-2026',
  appid: 'wxd0000000000de000',
  accountName: '媒体宝演示服务号',
  keyword: '海报',
  // A fixed refresh token keeps the stored account working when the sandbox starts afresh (its state file deleted).
  refreshToken: 'refreshtoken@@@demo-account',
};

type Sandbox = ReturnType<typeof startSandbox>;

async function call(base: string, path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  return fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' });
}

const json = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/**
 * The demo operator's password until the password rules refused passwords that contain the
 * username: a local database seeded before still has it, and it still logs in.
 */
const EARLIER_PASSWORD = 'demo-password-2026';

/** Logs the demo operator in, or registers it: its session token and the password that worked. */
async function demoOperator(base: string): Promise<{ token: string; password: string }> {
  for (const password of [DEMO.password, EARLIER_PASSWORD]) {
    const res = await call(base, '/api/session', json({ username: DEMO.username, password }));
    if (res.ok) return { token: ((await res.json()) as { token: string }).token, password };
    if (res.status !== 401) throw new Error(`demo operator: ${res.status} ${await res.text()}`);
  }
  const res = await call(base, '/api/users', json({ username: DEMO.username, password: DEMO.password }));
  if (!res.ok) throw new Error(`demo operator: ${res.status} ${await res.text()}`);
  return { token: ((await res.json()) as { token: string }).token, password: DEMO.password };
}

/**
 * Idempotent: logs in (or registers) the demo operator and creates what is missing. Resolves with
 * the password the demo operator logs in with.
 */
export async function seedDemo(base: string, sandbox: Sandbox): Promise<string> {
  sandbox.state.accounts.set(DEMO.appid, {
    appid: DEMO.appid,
    ghId: 'gh_d000demo0001',
    nickName: DEMO.accountName,
    serviceType: 2,
    verifyType: 0,
    refreshToken: DEMO.refreshToken,
    authorized: true,
  });
  const { token, password } = await demoOperator(base);

  const accounts = (await (await call(base, '/api/accounts', { token })).json()) as { items: { appid: string }[] };
  if (!accounts.items.some((a) => a.appid === DEMO.appid)) {
    const { url } = (await (await call(base, '/api/accounts/authorize', { method: 'POST', token })).json()) as { url: string };
    const done = await fetch(await pickAccount(url, DEMO.appid), { redirect: 'manual' });
    if (done.status !== 303) throw new Error(`demo authorization: ${done.status} ${await done.text()}`);
  }

  const activities = (await (await call(base, '/api/activities', { token })).json()) as { total: number };
  if (activities.total === 0) {
    const upload = await call(base, '/api/uploads', {
      method: 'POST',
      token,
      body: readFileSync('test/fixtures/poster-background.jpg'),
      headers: { 'content-type': 'image/jpeg' },
    });
    const { key } = (await upload.json()) as { key: string };
    const now = Date.now();
    const created = await call(base, '/api/activities', {
      token,
      ...json({
        name: '双十一拉新有礼',
        start_time: new Date(now - 3600_000).toISOString(),
        end_time: new Date(now + 30 * 86_400_000).toISOString(),
        protect_switch: 1,
        unsubscribe_deduct: true,
        publics: [DEMO.appid],
        awards: [
          { level: 1, number: 3, good: '10 元无门槛券', stock: 500 },
          { level: 2, number: 10, good: '品牌保温杯', stock: 100 },
          { level: 3, number: 30, good: '蓝牙耳机', stock: 10 },
        ],
        poster: { background_img: key, key_word: DEMO.keyword, rule: '邀请好友扫码关注，3 人得券，10 人得保温杯，30 人得耳机' },
      }),
    });
    if (created.status !== 201) throw new Error(`demo activity: ${created.status} ${await created.text()}`);
    await call(base, '/api/promos', { token, ...json({ name: '官网首页', account: DEMO.appid }) });
  }
  return password;
}
