import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Flag } from '../db/values';
import type { OutboundMessage } from '../messaging/outbox';
import { recordFollow } from './followers';
import { joinActivity } from './participants';
import type { PushContext } from './push-context';
import { signState } from './signed-token';
import { texts } from './texts';
import { activityStatus } from './time';

/** Keywords are at most 10 characters (seed §7.1). */
export const MAX_KEYWORD = 10;

export interface JoinResult {
  /** Passive reply (window or blacklist refusals), or null. */
  reply: string | null;
  messages: OutboundMessage[];
}

/**
 * The activity of this account whose keyword this is: the running one first, else the nearest in
 * time; a deleted one only when no other has the keyword (its fans are told it has ended).
 */
async function activityForKeyword(db: Db, accountId: number, keyword: string, now: number) {
  const rows = await db
    .select({ activity: schema.activity, poster: schema.posterSetting })
    .from(schema.posterSetting)
    .innerJoin(schema.activity, eq(schema.activity.id, schema.posterSetting.activityId))
    .innerJoin(schema.publicJoinActivity, eq(schema.publicJoinActivity.activityId, schema.activity.id))
    .where(and(eq(schema.posterSetting.keyWord, keyword), eq(schema.publicJoinActivity.accountId, accountId)));
  const distance = (a: { startTime: number; endTime: number }) => (now < a.startTime ? a.startTime - now : now >= a.endTime ? now - a.endTime : -1);
  const deleted = (a: { deletedAt: number | null }) => (a.deletedAt === null ? 0 : 1);
  return rows.sort((x, y) => deleted(x.activity) - deleted(y.activity) || distance(x.activity) - distance(y.activity))[0];
}

/**
 * A fan sent a text. If it is an activity's keyword: refuse outside the window or when
 * blacklisted; otherwise create (or reuse) the fan's row and queue the rule text and the
 * poster link. Other texts are not ours (null reply, no messages).
 */
export async function joinByKeyword(ctx: PushContext): Promise<JoinResult> {
  const { deps, account, openId, now } = ctx;
  const keyword = (ctx.msg.Content ?? '').trim();
  const none = { reply: null, messages: [] };
  if (!keyword || keyword.length > MAX_KEYWORD) return none;
  const { db } = deps;
  const found = await activityForKeyword(db, account.id, keyword, now);
  if (!found) return none;
  const { activity, poster } = found;
  if (activity.deletedAt !== null) {
    // Deleted while running, it ended then; deleted before its start, it keeps the window it announced.
    const end = activity.deletedAt > activity.startTime ? Math.min(activity.endTime, activity.deletedAt) : activity.endTime;
    return { reply: texts.ended(activity.startTime, end), messages: [] };
  }
  const status = activityStatus(activity, now);
  if (status === 'pending') return { reply: texts.notStarted(activity.startTime, activity.endTime), messages: [] };
  if (status === 'ended') return { reply: texts.ended(activity.startTime, activity.endTime), messages: [] };

  const existing = await db.query.takePartIn.findFirst({
    where: and(eq(schema.takePartIn.activityId, activity.id), eq(schema.takePartIn.accountId, account.id), eq(schema.takePartIn.openId, openId)),
  });
  if (existing?.black === Flag.yes) return { reply: texts.blacklisted, messages: [] };

  // A fan who can text the account follows it.
  const fan = await recordFollow(db, { accountId: account.id, openId, eventKey: ctx.dedupKey, promoId: null, at: now });
  const row = await joinActivity(db, { activityId: activity.id, accountId: account.id, mtbUserId: activity.mtbUserId, openId, promoId: fan.promoId, at: now });

  const state = await signState(deps.config.sessionSecret, row.id, now);
  const appid = account.authorizerAppid;
  const link = deps.wechat.oauthAuthorizeUrl(appid, `${deps.config.publicBaseUrl}/oauth/callback`, state);
  return {
    reply: null,
    messages: [
      { key: `${ctx.dedupKey}:rule`, appid, message: { touser: openId, msgtype: 'text', text: { content: poster.rule } } },
      {
        key: `${ctx.dedupKey}:link`,
        appid,
        message: {
          touser: openId,
          msgtype: 'news',
          news: { articles: [{ title: texts.linkTitle, description: texts.linkDescription, url: link, picurl: '' }] },
        },
      },
    ],
  };
}
