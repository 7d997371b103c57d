import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import type { Channel, MessageStatus } from '../db/schema';
import { notFound } from '../errors';

/** What an operator may narrow an activity's messages to. */
export interface MessageFilters {
  channel?: Channel;
  status?: MessageStatus;
  scene?: string;
  openId?: string;
}

/** A page of messages, newest first; `before` continues past the oldest shown (null: none older). */
export interface MessagePage {
  items: MessageRow[];
  before: number | null;
}

const m = schema.messageLog;
const t = schema.takePartIn;
const pn = schema.publicNumbers;

function page(db: Db, where: SQL, before: number | undefined, size: number) {
  return db
    .select({ message: m, nickName: t.nickName, activityName: schema.activity.name })
    .from(m)
    .leftJoin(pn, eq(pn.authorizerAppid, m.appid))
    .leftJoin(t, and(eq(t.activityId, m.activityId), eq(t.accountId, pn.id), eq(t.openId, m.openId)))
    .leftJoin(schema.activity, eq(schema.activity.id, m.activityId))
    .where(and(where, before ? lt(m.id, before) : undefined))
    .orderBy(desc(m.id))
    .limit(size + 1);
}

/** A message with the names the admin shows beside it. */
export type MessageRow = Awaited<ReturnType<typeof page>>[number];

const paged = (rows: MessageRow[], size: number): MessagePage => ({
  items: rows.slice(0, size),
  before: rows.length > size ? rows[size - 1].message.id : null,
});

/**
 * An activity's messages (one per notice, passive replies included), newest first, narrowed by
 * channel, outcome, scene or fan, a page at a time by id (the activity's index serves it).
 */
export async function activityMessages(
  db: Db,
  userId: number,
  activityId: number,
  f: MessageFilters,
  before: number | undefined,
  size: number,
): Promise<MessagePage> {
  const owned = await db.query.activity.findFirst({
    where: and(eq(schema.activity.id, activityId), eq(schema.activity.mtbUserId, userId)),
    columns: { id: true },
  });
  if (!owned) throw notFound('活动');
  const where = and(
    eq(m.activityId, activityId),
    f.channel ? eq(m.channel, f.channel) : undefined,
    f.status ? eq(m.status, f.status) : undefined,
    f.scene ? eq(m.scene, f.scene) : undefined,
    f.openId ? eq(m.openId, f.openId) : undefined,
  )!;
  return paged(await page(db, where, before, size), size);
}

/** Everything a fan (one of the operator's fans' rows) was sent on that account, in any activity, newest first. */
export async function fanMessages(
  db: Db,
  userId: number,
  rowId: number,
  before: number | undefined,
  size: number,
): Promise<MessagePage & { openId: string; appid: string }> {
  const fan = await db
    .select({ openId: t.openId, appid: pn.authorizerAppid })
    .from(t)
    .innerJoin(pn, eq(pn.id, t.accountId))
    .where(and(eq(t.id, rowId), eq(t.mtbUserId, userId)))
    .get();
  if (!fan) throw notFound('粉丝');
  return { ...fan, ...paged(await page(db, and(eq(m.appid, fan.appid), eq(m.openId, fan.openId))!, before, size), size) };
}
