import { and, eq, gte, lt, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Looking, Origin, PartIn } from '../db/values';
import { figureQueries, figuresOf } from './figure-counts';
import { leaderboard } from './progress';
import { shanghaiDate, shanghaiDayStart } from './time';
import { tierTallies } from './winners';

const t = schema.takePartIn;
const DAY = 86_400_000;
const day = (col: SQLWrapper) => sql<string>`date((${col} / 1000) + 28800, 'unixepoch')`;

/** One Asia/Shanghai day's figures of an activity (participants and assists as in figures.ts, by the day they came). */
export interface DayCounts {
  participants: number;
  assistsGross: number;
  newFollowers: number;
  /** Of the day's new followers, those still following. */
  netNew: number;
  unfollows: number;
}

const emptyDay = (): DayCounts => ({ participants: 0, assistsGross: 0, newFollowers: 0, netNew: 0, unfollows: 0 });

/**
 * The last `days` days of an activity up to today, or up to its last day once it has ended, never
 * starting before its first day (what the statistics show when no range is asked for).
 */
export function recentDays(a: { startTime: number; endTime: number }, days: number, now: number): { from: number; to: number } {
  const to = Math.max(Math.min(now, a.endTime - 1), a.startTime);
  return { from: Math.max(to - (days - 1) * DAY, a.startTime), to };
}

/**
 * Per-day figures of one activity in Asia/Shanghai days: participants (joined by keyword), gross
 * assists (helpers brought by posters, by the day they followed), new followers (everyone who
 * followed into the activity), net new (of those, still following), unfollows; plus the
 * activity's totals (figures.ts), tiers (finishers; prizes won, claimed, fulfilled), fission depth
 * and top inviters. Over the whole activity the days add up to the totals' participants and gross
 * assists.
 */
export async function activityStats(db: Db, activityId: number, from: number, to: number, now = Date.now()) {
  const start = shanghaiDayStart(from);
  const end = shanghaiDayStart(to) + DAY;
  const today = shanghaiDayStart(now);
  // The queried window also covers yesterday and today, for the comparison cards.
  const qStart = Math.min(start, today - DAY);
  const qEnd = Math.max(end, today + DAY);
  const a = eq(t.activityId, activityId);
  const [joined, followed, left, tiers, awards, depth, leaders, prizes, ...figureRows] = await db.batch([
    db
      .select({ date: day(t.ctime), n: sql<number>`count(*)` })
      .from(t)
      .where(and(a, eq(t.partIn, PartIn.participant), gte(t.ctime, qStart), lt(t.ctime, qEnd)))
      .groupBy(day(t.ctime)),
    db
      .select({
        date: day(t.subscribeTime),
        all: sql<number>`count(*)`,
        assists: sql<number>`sum(${t.origin} = ${Origin.poster})`,
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
    leaderboard(db, activityId),
    tierTallies(db, [activityId]),
    ...figureQueries(db, [activityId]),
  ]);

  const byDate = new Map<string, DayCounts>();
  const at = (d: string) => {
    let v = byDate.get(d);
    if (!v) byDate.set(d, (v = emptyDay()));
    return v;
  };
  for (const r of joined) at(r.date).participants = Number(r.n);
  for (const r of followed) Object.assign(at(r.date), { assistsGross: Number(r.assists ?? 0), newFollowers: Number(r.all), netNew: Number(r.still ?? 0) });
  for (const r of left) at(r.date).unfollows = Number(r.n);

  const days = [];
  for (let d = start; d < end; d += DAY) {
    const date = shanghaiDate(d);
    days.push({ date, ...(byDate.get(date) ?? emptyDay()) });
  }
  const pick = (date: string) => byDate.get(date) ?? emptyDay();
  return {
    totals: figuresOf(activityId, figureRows),
    days,
    today: pick(shanghaiDate(today)),
    yesterday: pick(shanghaiDate(today - DAY)),
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
