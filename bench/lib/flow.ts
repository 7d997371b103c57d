/**
 * Drives the real worker over HTTP the way an operator and WeChat do (see test/worker/helpers.ts
 * and task-helpers.ts): register → verify ticket → authorize an account through the sandbox's
 * page → upload a background → create an activity → fans send the keyword.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/wrangler-dev';
import { pickAccount } from '../../test/sandbox/authorization-page';
import { fanMessage, type PushKeys, sealPush } from '../../test/sandbox/pushes';
import { startSandbox } from '../../test/sandbox/server';

export type Sandbox = ReturnType<typeof startSandbox>;

export const SECRETS = {
  WECHAT_COMPONENT_SECRET: 'sandbox-component-secret',
  WECHAT_COMPONENT_TOKEN: 'sandboxtoken',
  WECHAT_COMPONENT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  SESSION_SECRET: 'bench-session-secret-0123456789abcdef0123456789',
  ADMIN_API_SECRET: 'bench-admin-api-secret-0123456789abcdef0123456789',
} as const;
export const COMPONENT_APPID = 'wx0000000000component';
export const KEYS: PushKeys = { token: SECRETS.WECHAT_COMPONENT_TOKEN, aesKey: SECRETS.WECHAT_COMPONENT_AES_KEY, componentAppid: COMPONENT_APPID };
export const BACKGROUND_FIXTURE = join(ROOT, 'test/fixtures/poster-background.jpg');

export interface Operator {
  id: number;
  username: string;
  token: string;
}

export interface Account {
  appid: string;
  ghId: string;
  nickName: string;
}

/** A JSON API client for one operator; throws with the body on an unexpected status. */
export class Api {
  constructor(
    readonly base: string,
    readonly token = '',
  ) {}

  async call(method: string, path: string, body?: unknown, expect = [200, 201, 204]): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) {
      headers['content-type'] = 'image/jpeg';
      payload = body as Uint8Array<ArrayBuffer>;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${this.base}/api${path}`, { method, headers, body: payload, redirect: 'manual' });
    if (!expect.includes(res.status)) throw new Error(`${method} /api${path} → ${res.status}: ${(await res.text()).slice(0, 500)}`);
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.call(method, path, body)).json() as Promise<T>;
  }
}

export async function registerOperator(base: string, username: string): Promise<Operator> {
  return new Api(base).json<Operator>('POST', '/users', { username, password: 'bench-password-2026' });
}

/** The operator's "授权公众号" flow: the sandbox's page, then WeChat's redirect back to the worker. */
export async function authorizeAccount(api: Api, sandboxUrl: string, nickName: string): Promise<Account> {
  const account = (await (
    await fetch(`${sandboxUrl}/__sandbox/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nickName }) })
  ).json()) as Account;
  const { url } = await api.json<{ url: string }>('POST', '/accounts/authorize');
  const done = await fetch(await pickAccount(url, account.appid), { redirect: 'manual' });
  if (done.status !== 303) throw new Error(`authorization failed: ${done.status} ${await done.text()}`);
  return account;
}

/**
 * Uploads the background fixture and returns its key. A `variant` > 0 gets a JPEG comment
 * segment after SOI: the same picture as other bytes, i.e. another upload and another cache key.
 */
export async function uploadBackground(api: Api, variant = 0): Promise<string> {
  const jpeg = new Uint8Array(readFileSync(BACKGROUND_FIXTURE));
  const comment = new TextEncoder().encode(`bench variant ${variant}`);
  const bytes = variant ? new Uint8Array([...jpeg.subarray(0, 2), 0xff, 0xfe, 0, comment.length + 2, ...comment, ...jpeg.subarray(2)]) : jpeg;
  return (await api.json<{ key: string }>('POST', '/uploads', bytes)).key;
}

export interface Tier {
  level: number;
  number: number;
  good: string;
  kind?: 'code' | 'shipping' | 'onsite';
  stock?: number;
}

/** An activity running now; `extra` adds settings (防刷 rules, claim settings…). */
export async function createActivity(
  api: Api,
  appid: string,
  background: string,
  keyword: string,
  tiers: Tier[],
  extra: Record<string, unknown> = {},
): Promise<{ id: number }> {
  const now = Date.now();
  return api.json<{ id: number }>('POST', '/activities', {
    name: `压测活动 ${keyword}`,
    start_time: new Date(now - 3600_000).toISOString(),
    end_time: new Date(now + 7 * 86_400_000).toISOString(),
    protect_switch: 1,
    unsubscribe_deduct: true,
    publics: [appid],
    awards: tiers,
    poster: { background_img: background, key_word: keyword, rule: '邀请好友扫码关注即可领奖' },
    ...extra,
  });
}

/** Seals and delivers one fan push to the account's message URL; returns the HTTP status and body. */
export async function pushFan(base: string, account: Account, inner: string): Promise<{ status: number; body: string }> {
  const sealed = await sealPush(KEYS, account.ghId, inner);
  const res = await fetch(`${base}/wechat/callback/${account.appid}?${sealed.query}`, {
    method: 'POST',
    body: sealed.body,
    headers: { 'content-type': 'text/xml' },
  });
  return { status: res.status, body: await res.text() };
}

let msgSeq = 0;

/** A fan sends the keyword (the sandbox first learns of the message, which opens their 48 h window) and gets the news card. */
export async function joinByKeyword(base: string, sandboxUrl: string, account: Account, openId: string, keyword: string): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/fans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appid: account.appid, openid: openId, interaction: 'message', following: true }),
  });
  const r = await pushFan(
    base,
    account,
    fanMessage({
      ghId: account.ghId,
      openId,
      createTime: Math.floor(Date.now() / 1000),
      type: 'text',
      content: keyword,
      // Unique MsgId: the default (second × 1000 + random) collides among fans joining in the
      // same second, and the worker rightly drops the second as a retry.
      msgId: `${Date.now()}${String(msgSeq++).padStart(6, '0')}`,
    }),
  );
  // The answer (rule and poster link) is the encrypted reply itself.
  if (r.status !== 200 || !r.body.startsWith('<xml>')) throw new Error(`join answered ${r.status} ${r.body}`);
}

export function startBenchSandbox(port: number, workerUrl: string): Sandbox {
  return startSandbox({
    port,
    componentAppid: COMPONENT_APPID,
    componentSecret: SECRETS.WECHAT_COMPONENT_SECRET,
    componentToken: SECRETS.WECHAT_COMPONENT_TOKEN,
    aesKey: SECRETS.WECHAT_COMPONENT_AES_KEY,
    workerUrl,
  });
}
