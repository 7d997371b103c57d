import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { WXBizMsgCrypt } from '../../worker/wechat/crypto';
import { parseWeChatXml } from '../../worker/wechat/xml';
import { cspDirectives } from '../csp';
import { pickAccount } from '../sandbox/authorization-page';
import { componentMessage, fanMessage, type PushKeys, sealPush } from '../sandbox/pushes';
import { TEST_SECRETS } from '../sandbox/test-config';

export const ORIGIN = 'https://mtb.example.test';
export const KEYS: PushKeys = {
  token: TEST_SECRETS.WECHAT_COMPONENT_TOKEN,
  aesKey: TEST_SECRETS.WECHAT_COMPONENT_AES_KEY,
  componentAppid: TEST_SECRETS.WECHAT_COMPONENT_APPID,
};
export const box = new WXBizMsgCrypt({ token: KEYS.token, encodingAesKey: KEYS.aesKey, appid: KEYS.componentAppid });

/** A request to the worker under test (its real fetch handler, inside workerd). */
export function worker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: 'manual', ...init }));
}

/** Calls the sandbox's control surface (or any sandbox URL). */
export async function sandbox<T = any>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(
    `${env.SANDBOX_URL}${path}`,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  return res.json() as Promise<T>;
}

export const uid = (prefix = '') => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Seals and posts an inner message to the component URL. */
export async function pushComponent(inner: string): Promise<Response> {
  const sealed = await sealPush(KEYS, KEYS.componentAppid, inner);
  return worker(`/wechat/component?${sealed.query}`, { method: 'POST', body: sealed.body });
}

/** Gets a verify ticket from the sandbox and pushes it to the worker, as WeChat does every 10 minutes. */
export async function pushTicket(): Promise<string> {
  const { ticket } = await sandbox<{ ticket: string }>('/__sandbox/ticket', {});
  const res = await pushComponent(componentMessage(KEYS.componentAppid, 'component_verify_ticket', { ComponentVerifyTicket: ticket }));
  if ((await res.text()) !== 'success') throw new Error('ticket push refused');
  return ticket;
}

export interface FanPush {
  type: 'text' | 'subscribe' | 'SCAN' | 'unsubscribe';
  openId: string;
  content?: string;
  scene?: string;
  createTime?: number;
  msgId?: string;
}

/** What WeChat would see: status, raw body, and the decrypted passive reply: its text, or its news card. */
export interface PushResult {
  status: number;
  body: string;
  reply: string | null;
  news: { title: string; description: string; url: string } | null;
}

/** A field of a news card's one article (parseWeChatXml keeps only the flat fields). */
const articleField = (xml: string, tag: string) => new RegExp(`<${tag}><!\\[CDATA\\[([\\s\\S]*?)\\]\\]></${tag}>`).exec(xml)?.[1] ?? '';

export async function readReply(res: Response): Promise<PushResult> {
  const body = await res.text();
  if (!body.startsWith('<xml>')) return { status: res.status, body, reply: null, news: null };
  const outer = parseWeChatXml(body);
  const xml = outer.Encrypt ? await box.decrypt(outer.Encrypt) : body;
  const inner = parseWeChatXml(xml);
  const news =
    inner.MsgType === 'news' ? { title: articleField(xml, 'Title'), description: articleField(xml, 'Description'), url: articleField(xml, 'Url') } : null;
  return { status: res.status, body, reply: inner.Content ?? null, news };
}

/** Builds a fan's push once, so it can be delivered several times (WeChat's retries). */
export async function sealFanPush(account: { appid: string; ghId: string }, p: FanPush) {
  const createTime = p.createTime ?? Math.floor(Date.now() / 1000);
  const inner = fanMessage({ ghId: account.ghId, openId: p.openId, createTime, type: p.type, content: p.content, scene: p.scene, msgId: p.msgId });
  return sealPush(KEYS, account.ghId, inner);
}

/** Delivers a sealed push to the account's message URL. */
export async function deliver(account: { appid: string }, sealed: { query: string; body: string }): Promise<PushResult> {
  return readReply(await worker(`/wechat/callback/${account.appid}?${sealed.query}`, { method: 'POST', body: sealed.body }));
}

/** A fan acts: the sandbox learns of it (follow state, service window), then WeChat pushes it. */
export async function fanPush(account: { appid: string; ghId: string }, p: FanPush): Promise<PushResult> {
  await sandbox('/__sandbox/fans', {
    appid: account.appid,
    openid: p.openId,
    // An unfollow opens no window.
    interaction: p.type === 'text' ? 'message' : p.type === 'unsubscribe' ? undefined : 'event',
    following: p.type !== 'unsubscribe',
  });
  return deliver(account, await sealFanPush(account, p));
}

export interface Operator {
  id: number;
  username: string;
  token: string;
}

/**
 * A client address of its own (IPv6 documentation range), as Cloudflare's `cf-connecting-ip`
 * would give: registrations are rate-limited per address.
 */
export const newAddress = () => `2001:db8::${[...crypto.getRandomValues(new Uint16Array(2))].map((n) => n.toString(16)).join(':')}`;

export async function register(username = uid('op')): Promise<Operator> {
  const res = await worker('/api/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': newAddress() },
    body: JSON.stringify({ username, password: 'correct horse 1' }),
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** An authenticated API call as `op`. */
export function api(op: Operator | null, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (op) headers.set('authorization', `Bearer ${op.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  return worker(`/api${path}`, { ...init, headers, body });
}

export interface SandboxAccount {
  appid: string;
  ghId: string;
  nickName: string;
}

/**
 * The whole authorization flow as an operator does it: "授权公众号" → WeChat's page → pick the
 * account → redirect back to the worker, which stores it.
 */
export async function authorizeAccount(op: Operator, opts: { nickName?: string; serviceType?: number; verifyType?: number } = {}) {
  const account = await sandbox<SandboxAccount>('/__sandbox/accounts', {
    nickName: opts.nickName ?? '测试公众号',
    serviceType: opts.serviceType,
    verifyType: opts.verifyType,
  });
  const { url } = await (await api(op, '/accounts/authorize', { method: 'POST' })).json<{ url: string }>();
  const redirect = new URL(await pickAccount(url, account.appid));
  const done = await worker(`${redirect.pathname}${redirect.search}`);
  if (done.status !== 303) throw new Error(`authorization failed: ${done.status} ${await done.text()}`);
  return { ...account, redirect: done.headers.get('location')! };
}

/** Polls until `check` returns a truthy value (queue deliveries are asynchronous). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SentMessage {
  appid: string;
  touser: string;
  msgtype: string;
  body: any;
}

export const sentTo = (appid: string, touser: string) => sandbox<SentMessage[]>(`/__sandbox/messages?appid=${appid}&touser=${encodeURIComponent(touser)}`);

/** Waits until `touser` has received at least `n` messages and returns them. */
export const waitForMessages = (appid: string, touser: string, n: number) =>
  waitFor(async () => {
    const list = await sentTo(appid, touser);
    return list.length >= n ? list : null;
  }, `${n} messages to ${touser}`);

/**
 * Reads one of the worker's HTML pages, asserting its Content-Security-Policy: nothing may run,
 * nothing loads but images from this origin and the page's own stylesheet (named by its hash),
 * and the page has no script, inline handler or style attribute that the policy would block.
 */
export async function strictPage(res: Response): Promise<string> {
  const html = await res.text();
  const policy = res.headers.get('content-security-policy') ?? '';
  const directives = cspDirectives(policy);
  expect(directives).toMatchObject({ 'default-src': ["'none'"], 'img-src': ["'self'"], 'base-uri': ["'none'"], 'frame-ancestors': ["'none'"] });
  expect(directives['script-src']).toBeUndefined();
  expect(policy).not.toContain('unsafe');
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(style)));
  expect(directives['style-src']).toEqual([`'sha256-${btoa(String.fromCharCode(...digest))}'`]);
  expect(html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  return html;
}
