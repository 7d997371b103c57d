import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Flag } from '../db/values';
import { sha256Hex } from '../lib/bytes';
import { signState, verifyState } from '../lib/signed-token';
import { fanLink } from '../messaging/fan-links';
import type { Outbox } from '../messaging/outbox';
import { loadReachSettings } from '../messaging/reach-settings';
import type { WeChatService } from '../platform/wechat-service';
import { resolveLayout } from '../poster/layout';
import { renderPoster } from '../poster/render';
import { WeChatApiError } from '../wechat/api';
import { MAX_QR_SECONDS } from '../wechat/authorizer';
import { fetchAvatar } from './avatar';
import { withBackground } from './backgrounds';
import { isFanSession, startFanSession } from './fan-access';
import { recordPoster } from './participants';
import { posterScene } from './scene';
import { texts } from './texts';
import { tiersAhead } from './tiers';
import { activityStatus } from './time';

/** A poster whose QR has less than this left is re-rendered with a fresh QR. */
export const QR_RENEW_BEFORE_MS = 3 * 24 * 3600_000;

export interface PosterDeps {
  db: Db;
  posters: R2Bucket;
  uploads: R2Bucket;
  wechat: WeChatService;
  outbox: Outbox;
  /** The shard `db` is (fans' sessions name it). */
  shard: string;
  config: { sessionSecret: string; publicBaseUrl: string; component: { bases: { open: string } } };
}

export type PosterPage =
  /** `session`: keep it in the fan's `fan` cookie (WeChat has just confirmed them), so a refresh shows the poster again. */
  | { kind: 'poster'; url: string; nickname: string; activity: string; session: string | null; progressUrl: string; progressKeyword: string }
  | { kind: 'message'; status: 400 | 403 | 404 | 502 | 503; title: string; message: string; retryUrl?: string };

const message = (status: 400 | 403 | 404 | 502 | 503, title: string, msg: string, retryUrl?: string): PosterPage => ({
  kind: 'message',
  status,
  title,
  message: msg,
  retryUrl,
});

/** What a poster was drawn with besides the background, the fan and the QR: the layout and the rule, hashed. */
async function designOf(poster: { layout: unknown; rule: string }): Promise<string> {
  return (await sha256Hex(JSON.stringify([resolveLayout(poster.layout), poster.rule]))).slice(0, 32);
}

/**
 * The fan opened the poster link and WeChat sent them back with a code: exchange it for the
 * fan's identity, then show their poster — reusing the stored one, or rendering a new one when
 * there is none, its QR is near expiry, or the background, layout or rule changed. Storage comes
 * last: a failure anywhere before leaves the row as it was. The row is looked up on the shard of
 * the account WeChat names (`appid`), once the state is known to be ours.
 *
 * The page starts the fan's session (as their /h5 pages do), so a refresh — the same code again,
 * which WeChat refuses — shows the poster again instead of asking them to start over.
 */
export async function openPosterLink(
  services: { config: PosterDeps['config']; forAccount(appid: string): Promise<PosterDeps> },
  q: { code?: string; state?: string; appid?: string },
  session: string | undefined,
  now: number,
): Promise<PosterPage> {
  const rowId = q.state ? await verifyState(services.config.sessionSecret, q.state, now) : null;
  if (!rowId || !q.code || !q.appid) return message(400, '链接已失效', '这个链接已过期或不完整，请回到公众号重新发送活动关键词获取新链接。');
  const deps = await services.forAccount(q.appid);
  const { db, wechat } = deps;
  const found = await db
    .select({ row: schema.takePartIn, account: schema.publicNumbers, activity: schema.activity, poster: schema.posterSetting })
    .from(schema.takePartIn)
    .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, schema.takePartIn.accountId))
    .innerJoin(schema.activity, eq(schema.activity.id, schema.takePartIn.activityId))
    .innerJoin(schema.posterSetting, eq(schema.posterSetting.activityId, schema.activity.id))
    .where(eq(schema.takePartIn.id, rowId))
    .get();
  if (!found || found.account.authorizerAppid !== q.appid) return message(404, '链接无效', '没有找到你的活动记录，请回到公众号重新发送活动关键词。');
  const { row, activity, poster } = found;
  if (activity.deletedAt || activityStatus(activity, now) === 'ended') return message(403, '活动已结束', texts.ended(activity.startTime, activity.endTime));
  if (row.black === Flag.yes) return message(403, '无法参与', texts.blacklisted);

  let fan: { openid: string; nickname: string; headimgurl: string };
  let confirmed: string | null = null;
  try {
    const token = await wechat.oauthToken(q.appid, q.code);
    if (token.is_snapshotuser === 1) return message(403, '请在微信中打开', texts.snapshot);
    if (token.openid !== row.openId) return message(403, '这不是你的海报链接', '请使用收到链接的微信号打开，或回到公众号发送关键词获取自己的链接。');
    const info = await wechat.oauthUserInfo(token.access_token, token.openid);
    fan = { openid: info.openid, nickname: info.nickname || '微信用户', headimgurl: info.headimgurl || '' };
    confirmed = await startFanSession(deps, found.account.id, row.openId, now);
  } catch (e) {
    if (!(e instanceof WeChatApiError)) throw e;
    const used = e.errcode === 40163 || e.errcode === 40029;
    // A refresh by the fan WeChat confirmed a moment ago: they are who the row says, as WeChat last described them.
    if (used && row.nickName !== null && (await isFanSession(deps, session, found.account.id, row.openId, now))) {
      fan = { openid: row.openId, nickname: row.nickName, headimgurl: row.avatar ?? '' };
    } else if (used) {
      return message(400, '请重新打开', '为了确认是你本人，请点击下方按钮重新打开你的专属海报。', await retryUrl(deps, row.id, q.appid, now));
    } else {
      console.error('web OAuth failed', row.id, e.message);
      return message(503, '微信暂时繁忙', '获取你的微信头像和昵称失败，请稍后点击下方按钮重新打开。', await retryUrl(deps, row.id, q.appid, now));
    }
  }

  const shown = async (key: string): Promise<PosterPage> => {
    await sendPosterImage(deps, { appid: q.appid!, row, activityId: activity.id, poster: key }, now);
    const progressUrl = await fanLink(deps, 'progress', row.id, now);
    return {
      kind: 'poster',
      url: `/posters/${key}`,
      nickname: fan.nickname,
      activity: activity.name,
      session: confirmed,
      progressUrl,
      progressKeyword: poster.progressKeyword,
    };
  };
  const design = await designOf(poster);
  const fresh =
    row.poster &&
    row.qrUrl &&
    (row.qrExpiresAt ?? 0) - now > QR_RENEW_BEFORE_MS &&
    row.posterBackground === poster.backgroundImg &&
    row.posterDesign === design;
  if (fresh && row.poster && row.nickName === fan.nickname) return shown(row.poster);

  let qr = row.qrUrl && (row.qrExpiresAt ?? 0) - now > QR_RENEW_BEFORE_MS ? { url: row.qrUrl, expiresAt: row.qrExpiresAt! } : null;
  try {
    if (!qr) {
      const ticket = await wechat.createQrcode(q.appid, posterScene(row.id), MAX_QR_SECONDS);
      qr = { url: ticket.url, expiresAt: now + (ticket.expire_seconds ?? MAX_QR_SECONDS) * 1000 };
    }
  } catch (e) {
    if (!(e instanceof WeChatApiError)) throw e;
    if (e.errcode === 48001) return message(502, '暂时无法生成海报', '该公众号没有生成带参数二维码的权限（需要认证服务号），请联系活动方。');
    console.error('qrcode/create failed', row.id, e.message);
    return message(503, '海报生成失败', '微信暂时繁忙，请稍后点击下方按钮重试。', await retryUrl(deps, row.id, q.appid, now));
  }

  try {
    const avatar = await fetchAvatar(fan.headimgurl, deps.config.component.bases.open);
    const image = await withBackground(deps.uploads, poster.backgroundImg, (background) =>
      renderPoster({ ...background, avatar, nickname: fan.nickname, rule: poster.rule, qrContent: qr.url, layout: resolveLayout(poster.layout) }),
    );
    if (!image) return message(503, '海报背景缺失', '活动海报背景不可用，请联系活动方。');
    const key = `${(await sha256Hex(image.bytes)).slice(0, 32)}.${image.contentType === 'image/png' ? 'png' : 'jpg'}`;
    await deps.posters.put(key, image.bytes, { httpMetadata: { contentType: image.contentType, cacheControl: 'public, max-age=31536000, immutable' } });
    await recordPoster(db, row.id, {
      nickName: fan.nickname,
      avatar: fan.headimgurl,
      poster: key,
      background: poster.backgroundImg,
      design,
      qrUrl: qr.url,
      qrExpiresAt: qr.expiresAt,
    });
    return shown(key);
  } catch (e) {
    console.error('poster render/store failed', row.id, e);
    return message(503, '海报生成失败', '生成海报时出了点问题，请稍后点击下方按钮重试。', await retryUrl(deps, row.id, q.appid, now));
  }
}

/**
 * Sends the poster itself into the chat, so the fan can forward it from there, when a send is to
 * spare: like a plain note it keeps the window's last sends for the prizes ahead. Once per
 * poster (its key names the image): opening the page again sends nothing new.
 */
async function sendPosterImage(
  deps: PosterDeps,
  p: { appid: string; row: { id: number; openId: string; taskProgress: number }; activityId: number; poster: string },
  now: number,
) {
  const tiers = (await loadReachSettings(deps.db, [p.activityId], now)).get(p.activityId)?.tiers ?? [];
  await deps.outbox.send([
    {
      kind: 'poster',
      key: `poster:${p.row.id}:${p.poster}`,
      appid: p.appid,
      openId: p.row.openId,
      activityId: p.activityId,
      poster: p.poster,
      reserve: tiersAhead(tiers, p.row.taskProgress),
    },
  ]);
}

/** A fresh OAuth link for the same row: codes are single-use, so a retry must go through WeChat again. */
async function retryUrl(deps: PosterDeps, rowId: number, appid: string, now: number): Promise<string> {
  return deps.wechat.oauthAuthorizeUrl(appid, `${deps.config.publicBaseUrl}/oauth/callback`, await signState(deps.config.sessionSecret, rowId, now));
}
