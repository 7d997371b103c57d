import { and, eq } from 'drizzle-orm';
import { schema } from '../db/client';
import { Flag } from '../db/values';
import { signState } from '../lib/signed-token';
import { formatShanghai } from '../lib/time';
import { renderNotice, sceneText, storedNotices } from '../messaging/notices';
import { recordFollow } from './followers';
import { joinActivity } from './participants';
import { type KeywordActivity, type PushAnswer, type PushContext, textReply } from './push-context';
import { texts } from './texts';
import { activityStatus } from './time';

/**
 * A fan sent an activity's keyword. Outside its window (a deleted activity has ended), or
 * blacklisted, they are told why;
 * otherwise their row is created (or reused) and the answer itself is one news card: the rule in
 * its description (the scene join_rules, as the operator words it) and the link to their poster.
 * Joining costs no customer-service send. Sending the keyword again gives a fresh link.
 */
export async function joinByKeyword(ctx: PushContext, [{ activity, poster }]: KeywordActivity[]): Promise<PushAnswer> {
  const { deps, account, openId, now } = ctx;
  const refuse = (content: string): PushAnswer => ({ reply: textReply(content), items: [] });
  if (activity.deletedAt !== null) {
    // Deleted while running, it ended then; deleted before its start, it keeps the window it announced.
    const end = activity.deletedAt > activity.startTime ? Math.min(activity.endTime, activity.deletedAt) : activity.endTime;
    return refuse(texts.ended(activity.startTime, end));
  }
  const status = activityStatus(activity, now);
  if (status === 'pending') return refuse(texts.notStarted(activity.startTime, activity.endTime));
  if (status === 'ended') return refuse(texts.ended(activity.startTime, activity.endTime));

  const { db } = deps;
  const existing = await db.query.takePartIn.findFirst({
    where: and(eq(schema.takePartIn.activityId, activity.id), eq(schema.takePartIn.accountId, account.id), eq(schema.takePartIn.openId, openId)),
  });
  if (existing?.black === Flag.yes) return refuse(texts.blacklisted);

  // A fan who can text the account follows it.
  const fan = await recordFollow(db, { accountId: account.id, openId, eventKey: ctx.dedupKey, promoId: null, at: now });
  const row = await joinActivity(db, { activityId: activity.id, accountId: account.id, mtbUserId: activity.mtbUserId, openId, promoId: fan.promoId, at: now });

  const state = await signState(deps.config.sessionSecret, row.id, now);
  const appid = account.authorizerAppid;
  const url = deps.wechat.oauthAuthorizeUrl(appid, `${deps.config.publicBaseUrl}/oauth/callback`, state);
  const description = renderNotice(sceneText(storedNotices(activity.notices), 'join_rules'), {
    activity: activity.name,
    rule: poster.rule,
    keyword: poster.keyWord,
    end_time: formatShanghai(activity.endTime),
  });
  const article = { title: texts.linkTitle, description, url, picurl: '' };
  return {
    reply: { type: 'news', article },
    items: [
      {
        kind: 'replied',
        key: `${ctx.dedupKey}:join`,
        appid,
        openId,
        activityId: activity.id,
        scene: 'join_rules',
        summary: `${article.title}\n${description}`,
        msgType: 'news',
      },
    ],
  };
}
