/**
 * Two shards side by side: operator A on the home database (binding DB), operator B on
 * DB_SHARD_2. Each runs a campaign end to end — authorize an account, upload a background, create
 * an activity, fans join, open their poster, assist, unfollow, the queue delivers the notes, a
 * fan's progress page — through the worker with every D1 statement its requests make recorded.
 * No statement of A's reaches DB_SHARD_2; B's statements on DB touch only the home tables
 * (logins, sessions, authorization requests, the directory); and afterwards each database holds
 * its own operator's data only, the work of the Durable Objects and the queue included.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fanLink } from '../../worker/campaign/fan-access';
import worker from '../../worker/index';
import { createServices } from '../../worker/services';
import { ORIGIN, pushTicket, readReply, type SandboxAccount, sandbox, sealFanPush, uid, waitFor } from './helpers';
import { activityBody, BACKGROUND } from './task-helpers';

/** Tables only the home database uses: an operator on another shard may touch these there, and nothing else. */
const HOME_TABLES = new Set(['user_info', 'sessions', 'rate_limits', 'authorize_requests', 'platform_state', 'operator_shard', 'account_shard']);

/** A D1 binding that records the SQL of every statement prepared on it. */
function recording(d1: D1Database, log: string[]): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, key) {
        if (key === 'bind') return (...args: unknown[]) => wrap(target.bind(...args));
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    real.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(d1, {
    get(target, key) {
      if (key === 'prepare')
        return (sql: string) => {
          log.push(sql);
          return wrap(target.prepare(sql));
        };
      if (key === 'batch') return (stmts: D1PreparedStatement[]) => target.batch(stmts.map((s) => real.get(s) ?? s));
      if (key === 'exec')
        return (sql: string) => {
          log.push(sql);
          return target.exec(sql);
        };
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The tables a statement names (`DO UPDATE SET` names none). */
const tablesOf = (sql: string) =>
  [...sql.matchAll(/\b(?:from|into|update|join)\s+[`"]?([a-z_]+)[`"]?/gi)].map((m) => m[1].toLowerCase()).filter((name) => name !== 'set');

interface Tenant {
  label: string;
  shard: string;
  home: string[];
  other: string[];
  token: string;
  id: number;
}

/** One request to the worker with the tenant's recording bindings (and its shard for new operators). */
async function call(t: Tenant, path: string, init: RequestInit = {}): Promise<Response> {
  const bindings = {
    ...env,
    NEW_OPERATOR_SHARD: t.shard,
    DB: recording(env.DB, t.home),
    DB_SHARD_2: recording(env.DB_SHARD_2, t.other),
  };
  const headers = new Headers(init.headers);
  if (t.token) headers.set('authorization', `Bearer ${t.token}`);
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${ORIGIN}${path}`, { redirect: 'manual', ...init, headers }), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function push(t: Tenant, account: SandboxAccount, p: Parameters<typeof sealFanPush>[1]) {
  await sandbox('/__sandbox/fans', {
    appid: account.appid,
    openid: p.openId,
    interaction: p.type === 'text' ? 'message' : 'event',
    following: p.type !== 'unsubscribe',
  });
  const sealed = await sealFanPush(account, p);
  return readReply(await call(t, `/wechat/callback/${account.appid}?${sealed.query}`, { method: 'POST', body: sealed.body }));
}

/** A campaign's day in miniature for one operator; returns what to look for afterwards. */
async function campaign(t: Tenant) {
  const user = await (await call(t, '/api/users', json({ username: uid(t.label), password: 'correct horse 1' }))).json<{ id: number; token: string }>();
  Object.assign(t, { id: user.id, token: user.token });

  const account = await sandbox<SandboxAccount>('/__sandbox/accounts', { nickName: `${t.label} 的服务号` });
  const { url } = await (await call(t, '/api/accounts/authorize', { method: 'POST' })).json<{ url: string }>();
  const page = new URL(url);
  const form = new URLSearchParams({
    pre_auth_code: page.searchParams.get('pre_auth_code')!,
    redirect_uri: page.searchParams.get('redirect_uri')!,
    appid: account.appid,
  });
  const back = new URL((await fetch(`${page.origin}/sandbox/authorize`, { method: 'POST', body: form, redirect: 'manual' })).headers.get('location')!);
  expect((await call(t, `${back.pathname}${back.search}`)).status).toBe(303);

  const upload = await call(t, '/api/uploads', { method: 'POST', body: BACKGROUND, headers: { 'content-type': 'image/jpeg' } });
  const background = (await upload.json<{ key: string }>()).key;
  const awards = [{ level: 1, number: 1, good: '保温杯', kind: 'shipping' }];
  const activity = await (await call(t, '/api/activities', json(activityBody([account.appid], background, { awards })))).json<{
    id: number;
    poster: { key_word: string };
  }>();

  // The owner asks for a poster and opens it (web OAuth through the sandbox).
  const owner = uid('oO');
  const joined = await push(t, account, { type: 'text', openId: owner, content: activity.poster.key_word });
  const authorize = new URL(joined.news!.url.replace(/#wechat_redirect$/, ''));
  authorize.searchParams.set('as', owner);
  const callback = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  expect((await call(t, `${callback.pathname}${callback.search}`)).status).toBe(200);

  // Two friends follow through the poster; one leaves again.
  const fans = await (await call(t, `/api/fans?activity=${activity.id}`)).json<{ items: { id: number; open_id: string }[] }>();
  const row = fans.items.find((f) => f.open_id === owner)!;
  const [h1, h2] = [uid('oH'), uid('oH')];
  for (const helper of [h1, h2]) expect((await push(t, account, { type: 'subscribe', openId: helper, scene: `1_${row.id}` })).reply).toContain('助力成功');
  await push(t, account, { type: 'unsubscribe', openId: h2 });
  await waitFor(
    async () =>
      (await (await call(t, `/api/fans?activity=${activity.id}`)).json<{ items: { open_id: string; number: number }[] }>()).items.find(
        (f) => f.open_id === owner,
      )?.number === 1,
    'the deduction in D1',
  );
  // The owner's progress page, from a link naming the row on its shard.
  const link = await fanLink(createServices(env, t.shard), 'progress', row.id, Date.now());
  expect((await call(t, new URL(link).pathname + new URL(link).search)).status).toBe(302);

  // The first assist won the owner the shipped prize: they open their claim page and post an address.
  const claim = new URL(await fanLink(createServices(env, t.shard), 'claim', row.id, Date.now()));
  const path = claim.pathname + claim.search;
  await waitFor(async () => (await winners(t.shard, activity.id)) === 1, 'the prize');
  const login = new URL((await call(t, path)).headers.get('location')!.replace(/#wechat_redirect$/, ''));
  login.searchParams.set('as', owner);
  const confirmed = new URL((await fetch(login, { redirect: 'manual' })).headers.get('location')!);
  const cookie = (await call(t, confirmed.pathname + confirmed.search)).headers.get('set-cookie')!.split(';')[0];
  const claimPage = await (await call(t, path, { headers: { cookie } })).text();
  const fields = {
    token: /name="token" value="([^"]+)"/.exec(claimPage)![1],
    winner: /name="winner" value="(\d+)"/.exec(claimPage)![1],
    name: '收件人',
    phone: '13800138000',
    region: '浙江省 杭州市 西湖区',
    address: '文三路 100 号',
  };
  const posted = await call(t, path, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  expect(posted.status).toBe(303);

  return { account, activity, owner, helpers: [h1, h2] };
}

/** Winner rows of an activity on its shard. */
const winners = async (shard: string, activityId: number) =>
  (await (shard === 'DB' ? env.DB : env.DB_SHARD_2).prepare('SELECT count(*) AS n FROM winner WHERE activity_id = ?').bind(activityId).first<{ n: number }>())!
    .n;

/** What a database holds of one operator's campaign. */
async function holdings(d1: D1Database, userId: number, appid: string, activityId: number) {
  const count = async (sql: string, ...params: unknown[]) =>
    (await d1
      .prepare(sql)
      .bind(...params)
      .first<{ n: number }>())!.n;
  return {
    accounts: await count('SELECT count(*) AS n FROM public_numbers WHERE authorizer_appid = ?', appid),
    activities: await count('SELECT count(*) AS n FROM activity WHERE id = ? AND mtb_user_id = ?', activityId, userId),
    uploads: await count('SELECT count(*) AS n FROM uploads WHERE mtb_user_id = ?', userId),
    fans: await count('SELECT count(*) AS n FROM take_part_in t JOIN public_numbers p ON p.id = t.public_number_id WHERE p.authorizer_appid = ?', appid),
    followers: await count('SELECT count(*) AS n FROM account_fan f JOIN public_numbers p ON p.id = f.public_number_id WHERE p.authorizer_appid = ?', appid),
    messages: await count('SELECT count(*) AS n FROM message_log WHERE appid = ?', appid),
    addressed: await count(
      "SELECT count(*) AS n FROM winner w JOIN activity a ON a.id = w.activity_id WHERE a.id = ? AND a.mtb_user_id = ? AND w.status = 'claimed' AND w.contact_phone IS NOT NULL",
      activityId,
      userId,
    ),
  };
}

beforeAll(async () => {
  await pushTicket();
});

describe('two shards side by side', () => {
  it('keeps each operator’s requests, counters and queue work on their own database', async () => {
    const a: Tenant = { label: 'shardA', shard: 'DB', home: [], other: [], token: '', id: 0 };
    const b: Tenant = { label: 'shardB', shard: 'DB_SHARD_2', home: [], other: [], token: '', id: 0 };
    const [ca, cb] = [await campaign(a), await campaign(b)];

    expect(a.other).toEqual([]);
    expect(b.other.length).toBeGreaterThan(10);
    const bOnHome = new Set(b.home.flatMap(tablesOf));
    expect([...bOnHome].filter((table) => !HOME_TABLES.has(table))).toEqual([]);

    // The queue logged both campaigns' notes; the counters wrote to their own shards.
    const settled = (d1: D1Database, t: Tenant, c: typeof ca) =>
      waitFor(async () => {
        const h = await holdings(d1, t.id, c.account.appid, c.activity.id);
        return h.messages >= 3 && h;
      }, `${t.label}'s notes logged`);
    const aHome = await settled(env.DB, a, ca);
    const bShard = await settled(env.DB_SHARD_2, b, cb);
    for (const own of [aHome, bShard]) expect(own).toMatchObject({ accounts: 1, activities: 1, uploads: 1, fans: 3, followers: 3, addressed: 1 });
    const none = { accounts: 0, activities: 0, uploads: 0, fans: 0, followers: 0, messages: 0, addressed: 0 };
    expect(await holdings(env.DB_SHARD_2, a.id, ca.account.appid, ca.activity.id)).toEqual(none);
    expect(await holdings(env.DB, b.id, cb.account.appid, cb.activity.id)).toEqual(none);

    // The directory says where each lives; B's login stays at home.
    const directory = createServices(env).directory;
    expect([await directory.operatorShard(a.id), await directory.operatorShard(b.id)]).toEqual(['DB', 'DB_SHARD_2']);
    expect([await directory.accountShard(ca.account.appid), await directory.accountShard(cb.account.appid)]).toEqual(['DB', 'DB_SHARD_2']);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM sessions WHERE user_id = ?').bind(b.id).first('n')).toBeGreaterThan(0);
    expect(await env.DB_SHARD_2.prepare('SELECT count(*) AS n FROM sessions').first('n')).toBe(0);

    // Each lists only their own.
    const listed = await (await call(b, '/api/activities')).json<{ items: { id: number }[] }>();
    expect(listed.items.map((x) => x.id)).toEqual([cb.activity.id]);
  });
});
