import jsQR from 'jsqr';
import { expect } from 'vitest';
import { MUST_ARRIVE } from '../../worker/messaging/notices';
import type { Notice } from '../../worker/messaging/outbox';
import { decodeJpeg } from '../../worker/poster/jpeg-decoder';
import backgroundDataUrl from '../fixtures/poster-background.jpg?inline';
import { api, authorizeAccount, fanPush, type Operator, register, type SandboxAccount, uid, worker } from './helpers';

export const BACKGROUND = Uint8Array.from(atob(backgroundDataUrl.slice(backgroundDataUrl.indexOf(',') + 1)), (c) => c.charCodeAt(0));

export interface Setup {
  op: Operator;
  account: SandboxAccount;
  activity: any;
  keyword: string;
}

export async function uploadBackground(op: Operator, bytes: Uint8Array = BACKGROUND, type = 'image/jpeg'): Promise<string> {
  const res = await api(op, '/uploads', { method: 'POST', body: bytes, headers: { 'content-type': type } });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return (await res.json<{ key: string }>()).key;
}

export function activityBody(publics: string[], background: string, over: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    name: '拉新有礼',
    start_time: new Date(now - 3600_000).toISOString(),
    end_time: new Date(now + 7 * 86_400_000).toISOString(),
    protect_switch: 1,
    unsubscribe_deduct: true,
    publics,
    awards: [
      { level: 1, number: 1, good: '优惠券' },
      { level: 2, number: 2, good: '保温杯' },
      { level: 3, number: 3, good: '蓝牙耳机' },
    ],
    poster: { background_img: background, key_word: uid('k').slice(0, 10), rule: '邀请 3 位好友扫码关注即可领奖' },
    ...over,
  };
}

/** An operator with an authorized account and a running activity on it. */
export async function setupActivity(over: Record<string, unknown> = {}): Promise<Setup> {
  const op = await register();
  const account = await authorizeAccount(op, { nickName: '活动服务号' });
  const background = await uploadBackground(op);
  const body = activityBody([account.appid], background, over);
  const res = await api(op, '/activities', { method: 'POST', json: body });
  if (res.status !== 201) throw new Error(`create activity failed: ${res.status} ${await res.text()}`);
  const activity = await res.json<any>();
  return { op, account, activity, keyword: activity.poster.key_word };
}

/** A fan sends the keyword; returns the poster's OAuth link from the news card the worker answers with. */
export async function join(s: Setup, openId: string): Promise<string> {
  const res = await fanPush(s.account, { type: 'text', openId, content: s.keyword });
  if (!res.news) throw new Error(`join answered ${res.status} ${res.body}`);
  return res.news.url;
}

/** The fan taps the link in WeChat: OAuth page → redirect back to the worker → poster page. */
export async function openLink(url: string, openId: string, opts: { snapshot?: boolean } = {}): Promise<Response> {
  const authorize = new URL(url.replace(/#wechat_redirect$/, ''));
  authorize.searchParams.set('as', openId);
  if (opts.snapshot) authorize.searchParams.set('snapshot', '1');
  const back = await fetch(authorize, { redirect: 'manual' });
  const callback = new URL(back.headers.get('location')!);
  return worker(`${callback.pathname}${callback.search}`);
}

/** The poster image URL shown on the fan's page. */
export async function posterOf(page: Response): Promise<string> {
  const html = await page.text();
  const src = /<img class="poster" src="([^"]+)"/.exec(html);
  if (!src) throw new Error(`no poster on page (${page.status}): ${html.slice(0, 300)}`);
  return src[1];
}

/** Decodes the QR drawn on a JPEG poster. */
export async function decodePosterQr(jpeg: Uint8Array): Promise<string | null> {
  const { pixels, width, height } = decodeJpeg(jpeg);
  return jsQR(new Uint8ClampedArray(pixels), width, height)?.data ?? null;
}

export async function rowOf(activityId: number, openId: string) {
  const { env } = await import('cloudflare:workers');
  return env.DB.prepare('SELECT * FROM take_part_in WHERE activity_id = ? AND open_id = ?').bind(activityId, openId).first<any>();
}

/** The fan's browser: follows the worker's redirect through the sandbox's OAuth page as `openId`. */
export async function throughOAuth(res: Response, openId: string, opts: { snapshot?: boolean } = {}): Promise<Response> {
  expect(res.status).toBe(302);
  const authorize = new URL(res.headers.get('location')!.replace(/#wechat_redirect$/, ''));
  expect(authorize.pathname).toBe('/connect/oauth2/authorize');
  authorize.searchParams.set('as', openId);
  if (opts.snapshot) authorize.searchParams.set('snapshot', '1');
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  return worker(`${back.pathname}${back.search}`);
}

/** A worker URL without its origin (the tests call the worker's fetch directly). */
export const local = (url: string) => url.replace(/^https?:\/\/[^/]+/, '');
/** A notice to `openId` in `s`'s activity, queued as the counter or the cron would (row 0: its wording names no row). */
export function noticeFor(s: Setup, openId: string, n: Pick<Notice, 'scene' | 'vars'> & Partial<Notice>): Notice {
  return {
    kind: 'notice',
    key: uid('n'),
    appid: s.account.appid,
    openId,
    activityId: s.activity.id,
    rowId: 0,
    mustArrive: MUST_ARRIVE.has(n.scene),
    reserve: 0,
    ...n,
  };
}
