import { and, eq, inArray } from 'drizzle-orm';
import { schema } from '../db/client';
import { PartIn } from '../db/values';
import { type KeywordActivity, type PushAnswer, type PushContext, textReply } from './push-context';
import { texts } from './texts';
import { activityStatus } from './time';

/**
 * The fan behind a shared keyword (进度, 领奖): their participant rows in the activities using
 * it; or, when they are in none, the answer telling them how to join the running ones.
 */
export async function fanRowsFor(
  ctx: PushContext,
  activities: KeywordActivity[],
): Promise<{ rows: (typeof schema.takePartIn.$inferSelect)[] } | { none: PushAnswer }> {
  const { deps, account, openId, now } = ctx;
  const t = schema.takePartIn;
  const rows = await deps.db
    .select()
    .from(t)
    .where(
      and(
        inArray(
          t.activityId,
          activities.map((a) => a.activity.id),
        ),
        eq(t.accountId, account.id),
        eq(t.openId, openId),
        eq(t.partIn, PartIn.participant),
      ),
    );
  if (rows.length) return { rows };
  const running = activities.filter((a) => activityStatus(a.activity, now) === 'running');
  return {
    none: { reply: running.length ? textReply(texts.notJoined(running.map((a) => ({ name: a.activity.name, keyword: a.poster.keyWord })))) : null, items: [] },
  };
}
