/**
 * How the cross-tenant harness (cross-tenant.test.ts) reaches for operator A's data as operator B,
 * for every operation of the admin API. Adding a route? Its test fails until it is covered here:
 * - a path with parameters: a RESOURCES entry for the path up to its last parameter (one entry
 *   covers `/api/activities/{id}` and every `/api/activities/{id}/…` under it);
 * - a secured path without parameters: a RULES entry, either probes that name A's data in the
 *   query or body, or `ownOnly` with the reason it can name nobody else's data;
 * - a route reachable without a session: PUBLIC.
 */
import { api, fanPush, type Operator, type SandboxAccount } from '../helpers';
import { activityBody, join, rowOf, setupActivity } from '../task-helpers';

/** The operations anyone may call (the worker's own list is in worker/routes/api/index.ts). */
export const PUBLIC = ['POST /api/users', 'POST /api/session', 'GET /api/openapi.json'];

/** Operator A's world: one of everything the API can name. */
export interface TenantA {
  op: Operator;
  account: SandboxAccount;
  activity: { id: number; poster: { background_img: string } };
  /** A's upload, the activity's background. */
  upload: string;
  promo: { id: number };
  /** A fan who joined A's activity: their take_part_in row. (Another followed through the promo.) */
  fan: { id: number; openId: string };
  /** The fan's prize (an onsite tier, reached by a friend's assist), with its claim code. */
  winner: { id: number; code: string };
  /** A template message A's account holds. */
  template: string;
}

/** Builds A's world through the API, as an operator and a fan would. */
export async function tenantA(): Promise<TenantA> {
  const s = await setupActivity({
    awards: [
      { level: 1, number: 1, good: '到店礼', kind: 'onsite' },
      { level: 2, number: 5, good: '兑换券', kind: 'code' },
    ],
  });
  const openId = `oTenantA${Date.now().toString(36)}`;
  await join(s, openId);
  const promo = await (await api(s.op, '/promos', { method: 'POST', json: { name: 'A 的渠道', account: s.account.appid } })).json<{ id: number }>();
  await fanPush(s.account, { type: 'subscribe', openId: `${openId}p`, scene: `2_${promo.id}` });
  const fanRow = (await rowOf(s.activity.id, openId)).id;
  await fanPush(s.account, { type: 'subscribe', openId: `${openId}h`, scene: `1_${fanRow}` });
  const [winner] = (await (await api(s.op, `/activities/${s.activity.id}/winners`)).json<{ items: { id: number; code: string }[] }>()).items;
  // A's audit log has an import of 兑换码 (an action B's requests below can never take).
  await api(s.op, `/activities/${s.activity.id}/awards/2/codes`, { method: 'POST', json: { codes: ['A-CODE-1'] } });
  const template = await (await api(s.op, `/accounts/${s.account.appid}/templates`, { method: 'POST', json: { template_id_short: '43216' } })).json<{
    template_id: string;
  }>();
  return {
    op: s.op,
    account: s.account,
    activity: s.activity,
    upload: s.activity.poster.background_img,
    promo,
    fan: { id: fanRow, openId },
    winner,
    template: template.template_id,
  };
}

/** What A reads at `path` (2xx required), as JSON, or as a digest of its bytes. */
export async function readAsA(a: TenantA, path: string): Promise<unknown> {
  const res = await api(a.op, path);
  if (!res.ok) throw new Error(`A's own GET /api${path} answered ${res.status}: the fixture does not name A's data`);
  if (res.headers.get('content-type')?.includes('json')) return res.json();
  return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', await res.arrayBuffer())));
}

/** How to name A's resource at a parameterised path, and see whether it changed. */
export interface ResourceFixture {
  /** The path parameters naming A's resource, put into the path as they are. */
  params(a: TenantA): Record<string, string>;
  /** What A sees of the resource; compared before and after B's mutating requests. */
  snapshot(a: TenantA): Promise<unknown>;
  /** A valid body per mutating method, so B's request passes validation and meets the ownership check. */
  body?: Partial<Record<'POST' | 'PUT' | 'PATCH' | 'DELETE', unknown>>;
}

export const RESOURCES: Record<string, ResourceFixture> = {
  '/api/activities/{id}': {
    params: (a) => ({ id: String(a.activity.id) }),
    snapshot: async (a) => [await readAsA(a, `/activities/${a.activity.id}`), await readAsA(a, `/activities/${a.activity.id}/winners`)],
    // POSTs under it: bulk shipping takes this CSV; erasing contacts takes no body.
    body: { PATCH: { name: '别人的活动' }, POST: { csv: '1,顺丰,SF0001' } },
  },
  '/api/activities/{id}/awards/{level}': {
    params: (a) => ({ id: String(a.activity.id), level: '2' }),
    snapshot: (a) => readAsA(a, `/activities/${a.activity.id}`),
    body: { POST: { codes: ['B-CODE-1'] } },
  },
  '/api/activities/{id}/reviews/{posterId}': {
    params: (a) => ({ id: String(a.activity.id), posterId: String(a.fan.id) }),
    snapshot: (a) => readAsA(a, `/activities/${a.activity.id}/reviews?status=approved`),
    body: { POST: { action: 'approve' } },
  },
  '/api/winners/{id}': {
    params: (a) => ({ id: String(a.winner.id) }),
    snapshot: (a) => readAsA(a, `/activities/${a.activity.id}/winners`),
    body: { POST: { company: '顺丰', tracking_no: 'SF0001' } },
  },
  '/api/promos/{id}': {
    params: (a) => ({ id: String(a.promo.id) }),
    snapshot: (a) => readAsA(a, `/promos/${a.promo.id}`),
    body: { PATCH: { name: '别人的渠道' } },
  },
  '/api/accounts/{appid}': {
    params: (a) => ({ appid: a.account.appid }),
    snapshot: (a) => readAsA(a, `/accounts/${a.account.appid}/templates`),
    body: { POST: { template_id_short: '43216' } },
  },
  '/api/accounts/{appid}/templates/{template_id}': {
    params: (a) => ({ appid: a.account.appid, template_id: a.template }),
    snapshot: (a) => readAsA(a, `/accounts/${a.account.appid}/templates`),
  },
  '/api/fans/{id}': {
    params: (a) => ({ id: String(a.fan.id) }),
    snapshot: (a) => readAsA(a, `/fans/${a.fan.id}/messages`),
  },
  '/api/uploads/{key}': {
    params: (a) => ({ key: a.upload }),
    snapshot: (a) => readAsA(a, `/uploads/${a.upload}`),
  },
};

/** One request B makes naming A's data, and what B must get. */
export interface Probe {
  query?: (a: TenantA) => Record<string, string>;
  json?: (a: TenantA) => unknown;
  /**
   * `nothing`: a 200 listing no rows (B, a new operator, has none of its own); a number: that
   * error status, with the error envelope. Either way A's same request is then served (a list
   * with rows), so a probe may change A's world only as A itself could.
   */
  expect: 'nothing' | 404 | 422;
  /** What A sees of the data named; compared before and after, when B's request could change it. */
  snapshot?: (a: TenantA) => Promise<unknown>;
}

export type Rule = { probes: Probe[] } | { ownOnly: string };

/** Secured operations without path parameters. */
export const RULES: Record<string, Rule> = {
  'GET /api/session': { ownOnly: 'answers who the caller is' },
  'DELETE /api/session': { ownOnly: "ends the caller's own session" },
  'GET /api/accounts': { probes: [{ expect: 'nothing' }] },
  'POST /api/accounts/authorize': { ownOnly: 'starts an authorization for the caller; WeChat names the account' },
  'GET /api/activities': {
    probes: [
      { expect: 'nothing' },
      { query: (a) => ({ account: a.account.appid }), expect: 'nothing' },
      { query: () => ({ include_deleted: 'true' }), expect: 'nothing' },
    ],
  },
  'POST /api/activities': { probes: [{ json: (a) => activityBody([a.account.appid], a.upload), expect: 422 }] },
  'POST /api/uploads': { ownOnly: "stores the caller's own file" },
  'POST /api/posters/preview': { probes: [{ json: (a) => ({ background_img: a.upload }), expect: 404 }] },
  'GET /api/promos': { probes: [{ expect: 'nothing' }, { query: (a) => ({ account: a.account.appid }), expect: 'nothing' }] },
  'POST /api/promos': { probes: [{ json: (a) => ({ name: '抢来的渠道', account: a.account.appid }), expect: 422 }] },
  'GET /api/fans': {
    probes: [
      { expect: 'nothing' },
      { query: (a) => ({ activity: String(a.activity.id) }), expect: 'nothing' },
      { query: (a) => ({ account: a.account.appid }), expect: 'nothing' },
      { query: (a) => ({ promo: String(a.promo.id) }), expect: 'nothing' },
    ],
  },
  'POST /api/fans/blacklist': {
    probes: [{ json: (a) => ({ ids: [a.fan.id], black: true }), expect: 404, snapshot: (a) => readAsA(a, `/fans?activity=${a.activity.id}`) }],
  },
  'GET /api/fans/export': { probes: [{ expect: 'nothing' }, { query: (a) => ({ activity: String(a.activity.id) }), expect: 'nothing' }] },
  // B's own log holds B's own requests here (its exports); A's imports never show in it.
  'GET /api/audit': {
    probes: [
      { query: () => ({ action: 'codes.import' }), expect: 'nothing' },
      { query: (a) => ({ activity: String(a.activity.id), action: 'codes.import' }), expect: 'nothing' },
    ],
  },
  'POST /api/redeem': {
    probes: [{ json: (a) => ({ code: a.winner.code }), expect: 404, snapshot: (a) => readAsA(a, `/activities/${a.activity.id}/winners`) }],
  },
};
