import { and, asc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Flag, Looking, PartIn } from '../db/values';
import { MUST_ARRIVE } from '../messaging/notices';
import { MAX_BUNDLE, type Notice, type Outbox } from '../messaging/outbox';
import { progressVars, resultOf, tierVars } from './notice-vars';
import type { Tier } from './tiers';

/** The two reminders an activity's participants get, each once. */
type ReminderKind = 'ending_soon' | 'ended';

const HOUR = 3600_000;
/** 活动即将结束 goes this long before the end… */
const ENDING_SOON_BEFORE = 24 * HOUR;
/** …and 活动已结束 this long after it at the latest (a worker that was down catches up; older activities are left alone). */
const ENDED_WITHIN = 72 * HOUR;
/** Participants a step reads and queues. */
const STEP = 1_000;
/** A cron run stops starting steps after this long; the next run continues where it stopped. */
const RUN_BUDGET_MS = 20_000;

/**
 * When "活动即将结束" is due: 24 h before the end, or halfway through an activity shorter than
 * two days (a fan who joined an hour ago needs no reminder yet).
 */
export const endingSoonAt = (a: { startTime: number; endTime: number }) =>
  Math.max(a.endTime - ENDING_SOON_BEFORE, a.startTime + (a.endTime - a.startTime) / 2);

const a = schema.activity;
const t = schema.takePartIn;
const r = schema.activityReminder;

/**
 * The hourly cron's reminders (PRODUCT §3.1): "活动即将结束" to each participant who has not
 * reached every tier, and "活动已结束" with their result to every participant, each once. They are
 * queued as notices: the consumer sends each through a channel that still reaches the fan (a
 * window with room, else the scene's template) or records why none does, and its keys make a
 * notice queued twice (overlapping runs) go out once.
 */
export async function sendReminders(deps: { db: Db; outbox: Outbox }, now = Date.now()): Promise<{ ending_soon: number; ended: number }> {
  const { db } = deps;
  const started = Date.now();
  const due = await db
    .select({ activity: a, reminder: r })
    .from(a)
    .leftJoin(r, and(eq(r.activityId, a.id), eq(r.kind, sql`CASE WHEN ${a.endTime} <= ${now} THEN 'ended' ELSE 'ending_soon' END`)))
    .where(and(isNull(a.deletedAt), gt(a.endTime, now - ENDED_WITHIN), lt(a.startTime, now), isNull(r.doneAt)));
  const queued = { ending_soon: 0, ended: 0 };
  for (const { activity, reminder } of due) {
    const kind: ReminderKind = activity.endTime <= now ? 'ended' : 'ending_soon';
    if (kind === 'ending_soon' && now < endingSoonAt(activity)) continue;
    let upto = reminder?.upto ?? 0;
    while (Date.now() - started < RUN_BUDGET_MS) {
      const step = await remindStep(deps, activity.id, kind, upto, now);
      if (step === null) break;
      queued[kind] += step.queued;
      if (step.done) break;
      upto = step.upto;
    }
  }
  return queued;
}

/**
 * Queues one step of an activity's reminder: the next participants after `upto`, then moves the
 * mark (compare-and-set). Null when another run moved it first (that run carries on).
 */
async function remindStep(deps: { db: Db; outbox: Outbox }, activityId: number, kind: ReminderKind, upto: number, now: number) {
  const { db } = deps;
  const [awards, rows] = await db.batch([
    db.select().from(schema.award).where(eq(schema.award.activityId, activityId)).orderBy(asc(schema.award.level)),
    db
      .select({ row: t, appid: schema.publicNumbers.authorizerAppid })
      .from(t)
      .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, t.accountId))
      .where(and(eq(t.activityId, activityId), eq(t.partIn, PartIn.participant), gt(t.id, upto), eq(t.black, Flag.no), eq(t.looking, Looking.following)))
      .orderBy(asc(t.id))
      .limit(STEP),
  ]);
  const tiers: Tier[] = awards;
  const top = Math.max(0, ...tiers.map((x) => x.level));
  const notices = rows
    .filter(({ row }) => kind === 'ended' || row.taskProgress < top)
    .map(({ row, appid }): Notice => {
      const won = tiers.find((x) => x.level === row.taskProgress);
      return {
        kind: 'notice',
        key: `${kind}:${activityId}:${row.id}`,
        appid,
        openId: row.openId,
        activityId,
        rowId: row.id,
        scene: kind,
        vars: { ...progressVars(tiers, row.number, row.taskProgress), ...(won ? tierVars(won) : {}), result: resultOf(tiers, row.taskProgress) },
        mustArrive: MUST_ARRIVE.has(kind),
        reserve: 0,
      };
    });
  for (let i = 0; i < notices.length; i += MAX_BUNDLE) await deps.outbox.send(notices.slice(i, i + MAX_BUNDLE));
  const last = rows.at(-1)?.row.id ?? upto;
  const done = rows.length < STEP;
  const moved = await db
    .insert(r)
    .values({ activityId, kind, upto: last, doneAt: done ? now : null })
    .onConflictDoUpdate({ target: [r.activityId, r.kind], set: { upto: last, doneAt: done ? now : null }, setWhere: and(eq(r.upto, upto), isNull(r.doneAt)) })
    .returning({ upto: r.upto });
  return moved.length ? { queued: notices.length, upto: last, done } : null;
}
