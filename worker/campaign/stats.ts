import { and, desc, eq, gte, lt, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Looking, Origin, PartIn } from '../db/values';
import { shanghaiDayStart } from './time';
import { tierTallies } from './winners';

const t = schema.takePartIn;
const DAY = 86_400_000;
const day = (col: SQLWrapper) => sql<string>`date((${col} / 1000) + 28800, 'unixepoch')`;
const dateOf = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);

/** One Asia/Shanghai day's figures of an activity. */
export interface DayCounts {
  participants: number;
  assists: number;
  newFollowers: number;
  /** Of the day's new followers, those still following. */
  netNew: number;
  unfollows: number;
}

const emptyDay = (): DayCounts => ({ participants: 0, assists: 0, newFollowers: 0, netNew: 0, unfollows: 0 });

/**
 * Per-day figures of one activity in Asia/Shanghai days: participants (joined by keyword),
 * assists (helpers brought by posters), new followers (everyone who followed into the activity),
 * net new (of those, still following), unfollows, plus tiers (finishers, and prizes won / claimed /
 * fulfilled), fission depth and top inviters.
 */
export async function activityStats(db: Db, activityId: number, from: number, to: number, now = Date.now()) {
  const start = shanghaiDayStart(from);
  const end = shanghaiDayStart(to) + DAY;
  const today = shanghaiDayStart(now);
  // The queried window also covers yesterday and today, for the comparison cards.
  const qStart = Math.min(start, today - DAY);
  const qEnd = Math.max(end, today + DAY);
  const a = eq(t.activityId, activityId);
  const [joined, followed, left, tiers, awards, depth, leaders, prizes] = await db.batch([
    db
      .select({ date: day(t.ctime), n: sql<number>`count(*)` })
      .from(t)
      .where(and(a, eq(t.partIn, PartIn.participant), gte(t.ctime, qStart), lt(t.ctime, qEnd)))
      .groupBy(day(t.ctime)),
    db
      .select({
        date: day(t.subscribeTime),
        all: sql<number>`count(*)`,
        assists: sql<number>`sum(${t.origin} = ${Origin.poster} AND ${t.partIn} = ${PartIn.helper})`,
        still: sql<number>`sum(${t.looking} = ${Looking.following})`,
      })
      .from(t)
      .where(and(a, gte(t.subscribeTime, qStart), lt(t.subscribeTime, qEnd)))
      .groupBy(day(t.subscribeTime)),
    db
      .select({ date: day(t.unsubscribeTime), n: sql<number>`count(*)` })
      .from(t)
      .where(and(a, gte(t.unsubscribeTime, qStart), lt(t.unsubscribeTime, qEnd)))
      .groupBy(day(t.unsubscribeTime)),
    db
      .select({ progress: t.taskProgress, n: sql<number>`count(*)` })
      .from(t)
      .where(and(a, sql`${t.taskProgress} > 0`))
      .groupBy(t.taskProgress),
    db.select().from(schema.award).where(eq(schema.award.activityId, activityId)).orderBy(schema.award.level),
    db.select({ level: t.level, fans: sql<number>`count(*)` }).from(t).where(a).groupBy(t.level).orderBy(t.level),
    db
      .select({ id: t.id, openId: t.openId, nickName: t.nickName, avatar: t.avatar, number: t.number, taskProgress: t.taskProgress })
      .from(t)
      .where(and(a, eq(t.partIn, PartIn.participant), sql`${t.number} > 0`))
      .orderBy(desc(t.number), t.id)
      .limit(10),
    tierTallies(db, [activityId]),
  ]);

  const byDate = new Map<string, DayCounts>();
  const at = (d: string) => {
    let v = byDate.get(d);
    if (!v) byDate.set(d, (v = emptyDay()));
    return v;
  };
  for (const r of joined) at(r.date).participants = Number(r.n);
  for (const r of followed) Object.assign(at(r.date), { assists: Number(r.assists ?? 0), newFollowers: Number(r.all), netNew: Number(r.still ?? 0) });
  for (const r of left) at(r.date).unfollows = Number(r.n);

  const days = [];
  for (let d = start; d < end; d += DAY) {
    const date = dateOf(d);
    days.push({ date, ...(byDate.get(date) ?? emptyDay()) });
  }
  const pick = (date: string) => byDate.get(date) ?? emptyDay();
  return {
    days,
    today: pick(dateOf(today)),
    yesterday: pick(dateOf(today - DAY)),
    tiers: awards.map((w) => {
      const p = prizes.find((x) => x.level === w.level);
      return {
        level: w.level,
        number: w.number,
        good: w.good,
        stock: w.stock,
        kind: w.kind,
        completions: tiers.filter((x) => x.progress >= w.level).reduce((s, x) => s + Number(x.n), 0),
        won: Number(p?.won ?? 0),
        claimed: Number(p?.claimed ?? 0),
        fulfilled: Number(p?.fulfilled ?? 0),
      };
    }),
    depth: depth.map((d) => ({ level: d.level, fans: Number(d.fans) })),
    leaderboard: leaders,
  };
}
