import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { HOME_SHARD } from '../db/shards';
import { signToken, verifyToken } from '../lib/signed-token';
import { type FanPage, fanLinkRow } from '../messaging/fan-links';
import type { WeChatService } from '../platform/wechat-service';
import { WeChatApiError } from '../wechat/api';
import { texts } from './texts';

// Notices link to the fans' pages too, so the links are made in messaging; the pages live here.
export { type FanPage, fanLink } from '../messaging/fan-links';

/** After WeChat confirmed who holds the phone, their pages open without asking again for a day. */
export const FAN_SESSION_TTL_MS = 24 * 3600_000;
export const FAN_SESSION_COOKIE = 'fan';

export interface FanAccessDeps {
  db: Db;
  shard: string;
  /** The same over the shard a link names. */
  forShard(shard: string): FanAccessDeps;
  wechat: WeChatService;
  config: { sessionSecret: string; publicBaseUrl: string };
}

/** The fan a session stands for: one openid on one account of one shard. */
const holderOf = (shard: string, accountId: number, openId: string) => `${accountId}:${openId}${shard === HOME_SHARD ? '' : `:${shard}`}`;

/** A session for a fan WeChat has just confirmed (web OAuth), kept in the `fan` cookie for a day. */
export function startFanSession({ config, shard }: Pick<FanAccessDeps, 'config' | 'shard'>, accountId: number, openId: string, now: number): Promise<string> {
  return signToken(config.sessionSecret, 'fan-session', holderOf(shard, accountId, openId), now + FAN_SESSION_TTL_MS);
}

/** Whether `session` (the `fan` cookie) is this fan's, unexpired. */
export async function isFanSession(
  { config, shard }: Pick<FanAccessDeps, 'config' | 'shard'>,
  session: string | undefined,
  accountId: number,
  openId: string,
  now: number,
): Promise<boolean> {
  return Boolean(session) && (await verifyToken(config.sessionSecret, 'fan-session', session!, now)) === holderOf(shard, accountId, openId);
}

/** A fan's row in an activity, with its account and activity, as the fans' pages need it. */
export type FanRow = NonNullable<Awaited<ReturnType<typeof fanRow>>>;

function fanRow(db: Db, rowId: number) {
  return db
    .select({ row: schema.takePartIn, account: schema.publicNumbers, activity: schema.activity })
    .from(schema.takePartIn)
    .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, schema.takePartIn.accountId))
    .innerJoin(schema.activity, eq(schema.activity.id, schema.takePartIn.activityId))
    .where(eq(schema.takePartIn.id, rowId))
    .get();
}

/** What to do with a visit to a fan's page. */
export type FanAdmission =
  | { kind: 'admitted'; fan: FanRow; shard: string }
  /** WeChat confirmed the fan: keep the session cookie, and reload the page without the OAuth code. */
  | { kind: 'confirmed'; session: string; location: string }
  /** Ask WeChat who holds the phone (silent for a follower coming from the account's chat). */
  | { kind: 'authorize'; location: string }
  | { kind: 'refused'; status: 400 | 403 | 503; title: string; message: string };

const refused = (status: 400 | 403 | 503, title: string, message: string): FanAdmission => ({ kind: 'refused', status, title, message });

/**
 * Lets a fan onto their page only when WeChat says the phone is theirs: the link names the fan, a
 * session cookie (set after WeChat confirmed them) or a fresh web-OAuth code proves who is holding
 * it. A forwarded link shows a stranger nothing, and WeChat's snapshot preview gets a page asking
 * to open it in WeChat.
 */
export async function admitFan(
  deps: FanAccessDeps,
  page: FanPage,
  q: { t?: string; code?: string },
  session: string | undefined,
  now: number,
): Promise<FanAdmission> {
  const { config } = deps;
  const payload = q.t ? await verifyToken(config.sessionSecret, page, q.t, now) : null;
  const row = payload ? fanLinkRow(payload) : null;
  const shard = row?.shard ?? HOME_SHARD;
  const fan = row ? await fanRow(deps.forShard(shard).db, row.rowId) : undefined;
  if (!fan) return refused(400, '链接已失效', '这个链接不完整或已过期，请回到公众号重新获取。');
  const tenant = { config, shard };
  if (await isFanSession(tenant, session, fan.account.id, fan.row.openId, now)) return { kind: 'admitted', fan, shard };
  const here = `${config.publicBaseUrl}/h5/${page}?t=${q.t}`;
  if (!q.code) return { kind: 'authorize', location: deps.wechat.oauthAuthorizeUrl(fan.account.authorizerAppid, here, page) };
  try {
    const token = await deps.wechat.oauthToken(fan.account.authorizerAppid, q.code);
    if (token.is_snapshotuser === 1) return refused(403, '请在微信中打开', texts.openInWeChat);
    if (token.openid !== fan.row.openId) return refused(403, '这不是你的链接', '这个页面只对收到链接的微信号开放，请回到公众号查看自己的。');
  } catch (e) {
    if (!(e instanceof WeChatApiError)) throw e;
    // A used code (a refresh of the redirect) is asked for again; anything else is WeChat being busy.
    if (e.errcode === 40163 || e.errcode === 40029)
      return { kind: 'authorize', location: deps.wechat.oauthAuthorizeUrl(fan.account.authorizerAppid, here, page) };
    console.error('fan page OAuth failed', page, fan.row.id, e.message);
    return refused(503, '微信暂时繁忙', '请稍后刷新页面重试。');
  }
  return { kind: 'confirmed', session: await startFanSession(tenant, fan.account.id, fan.row.openId, now), location: here };
}
