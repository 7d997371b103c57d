import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import type { OutboundMessage } from '../messaging/outbox';
import { recordFollow, type Account } from './followers';
import { signState } from './oauth-state';
import { texts } from './texts';
import { activityStatus } from './time';

/** Keywords are at most 10 characters (seed §7.1). */
export const MAX_KEYWORD = 10;

export interface JoinDeps {
  db: Db;
  sessionSecret: string;
  /** Builds the component web-OAuth link for a state. */
  oauthUrl(appid: string, state: string): string;
}

export interface JoinResult {
  /** Passive reply (window or blacklist refusals), or null. */
  reply: string | null;
  messages: OutboundMessage[];
}

/** The activity of this account whose keyword this is: the running one first, else the nearest in time. */
async function activityForKeyword(db: Db, accountId: number, keyword: string, now: number) {
  const rows = await db
    .select({ activity: schema.activity, poster: schema.posterSetting })
    .from(schema.posterSetting)
    .innerJoin(schema.activity, eq(schema.activity.id, schema.posterSetting.activityId))
    .innerJoin(schema.publicJoinActivity, eq(schema.publicJoinActivity.activityId, schema.activity.id))
    .where(and(eq(schema.posterSetting.keyWord, keyword), eq(schema.publicJoinActivity.accountId, accountId), isNull(schema.activity.deletedAt)));
  const distance = (a: { startTime: number; endTime: number }) => (now < a.startTime ? a.startTime - now : now >= a.endTime ? now - a.endTime : -1);
  return rows.sort((x, y) => distance(x.activity) - distance(y.activity))[0];
}

/**
 * A fan sent a text. If it is an activity's keyword: refuse outside the window or when
 * blacklisted; otherwise create (or reuse) the fan's row and queue the rule text and the
 * poster link. Other texts are not ours (null reply, no messages).
 */
export async function joinByKeyword(deps: JoinDeps, account: Account, openId: string, content: string, eventKey: string, now: number): Promise<JoinResult> {
  const keyword = content.trim();
  const none = { reply: null, messages: [] };
  if (!keyword || keyword.length > MAX_KEYWORD) return none;
  const { db } = deps;
  const found = await activityForKeyword(db, account.id, keyword, now);
  if (!found) return none;
  const { activity, poster } = found;
  const status = activityStatus(activity, now);
  if (status === 'pending') return { reply: texts.notStarted(activity.startTime, activity.endTime), messages: [] };
  if (status === 'ended') return { reply: texts.ended(activity.startTime, activity.endTime), messages: [] };

  const existing = await db.query.takePartIn.findFirst({
    where: and(eq(schema.takePartIn.activityId, activity.id), eq(schema.takePartIn.accountId, account.id), eq(schema.takePartIn.openId, openId)),
  });
  if (existing?.black) return { reply: texts.blacklisted, messages: [] };

  // A fan who can text the account follows it.
  const fan = await recordFollow(db, { accountId: account.id, openId, eventKey, promoId: null, at: now });
  // A fan who came through a promo code keeps that attribution in every activity they join.
  const origin = fan.promoId ? { origin: 1, originOpenId: String(fan.promoId) } : { origin: 2, originOpenId: null };
  const [row] = await db
    .insert(schema.takePartIn)
    .values({ activityId: activity.id, accountId: account.id, mtbUserId: activity.mtbUserId, openId, partIn: 0, ctime: now, subscribeTime: now, ...origin })
    .onConflictDoUpdate({
      target: [schema.takePartIn.activityId, schema.takePartIn.accountId, schema.takePartIn.openId],
      set: { partIn: 0, looking: 0, subscribeTime: sql`coalesce(${schema.takePartIn.subscribeTime}, ${now})` },
    })
    .returning({ id: schema.takePartIn.id });

  const state = await signState(deps.sessionSecret, row.id, now);
  const appid = account.authorizerAppid;
  return {
    reply: null,
    messages: [
      { key: `${eventKey}:rule`, appid, message: { touser: openId, msgtype: 'text', text: { content: poster.rule } } },
      {
        key: `${eventKey}:link`,
        appid,
        message: {
          touser: openId,
          msgtype: 'news',
          news: { articles: [{ title: texts.linkTitle, description: texts.linkDescription, url: deps.oauthUrl(appid, state), picurl: '' }] },
        },
      },
    ],
  };
}
