import { and, desc, eq, gte, lt, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { shanghaiDayStart } from './time';

const t = schema.takePartIn;
const DAY = 86_400_000;
const day = (col: SQLWrapper) => sql<string>`date((${col} / 1000) + 28800, 'unixepoch')`;
const dateOf = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);

interface DayCounts {
  participants: number;
  assists: number;
  new_followers: number;
  net_new: number;
  unfollows: number;
}

/**
 * Per-day figures of one activity in Asia/Shanghai days: participants (joined by keyword),
 * assists (helpers brought by posters), new followers (everyone who followed into the activity),
 * net new (of those, still following), unfollows, plus tiers, fission depth and top inviters.
 */
export async function activityStats(db: Db, activityId: number, from: number, to: number, now = Date.now()) {
  const start = shanghaiDayStart(from);
  const end = shanghaiDayStart(to) + DAY;
  const today = shanghaiDayStart(now);
  // The queried window also covers yesterday and today, for the comparison cards.
  const qStart = Math.min(start, today - DAY);
  const qEnd = Math.max(end, today + DAY);
  const a = eq(t.activityId, activityId);
  const [joined, followed, left, tiers, awards, depth, leaders] = await db.batch([
    db.select({ date: day(t.ctime), n: sql<number>`count(*)` }).from(t).where(and(a, eq(t.partIn, 0), gte(t.ctime, qStart), lt(t.ctime, qEnd))).groupBy(day(t.ctime)),
    db.select({
      date: day(t.subscribeTime),
      all: sql<number>`count(*)`,
      assists: sql<number>`sum(${t.origin} = 0 AND ${t.partIn} = 1)`,
      still: sql<number>`sum(${t.looking} = 0)`,
    }).from(t).where(and(a, gte(t.subscribeTime, qStart), lt(t.subscribeTime, qEnd))).groupBy(day(t.subscribeTime)),
    db.select({ date: day(t.unsubscribeTime), n: sql<number>`count(*)` }).from(t).where(and(a, gte(t.unsubscribeTime, qStart), lt(t.unsubscribeTime, qEnd))).groupBy(day(t.unsubscribeTime)),
    db.select({ progress: t.taskProgress, n: sql<number>`count(*)` }).from(t).where(and(a, sql`${t.taskProgress} > 0`)).groupBy(t.taskProgress),
    db.select().from(schema.award).where(eq(schema.award.activityId, activityId)).orderBy(schema.award.level),
    db.select({ level: t.level, fans: sql<number>`count(*)` }).from(t).where(a).groupBy(t.level).orderBy(t.level),
    db.select({ id: t.id, open_id: t.openId, nick_name: t.nickName, avatar: t.avatar, number: t.number, task_progress: t.taskProgress })
      .from(t).where(and(a, eq(t.partIn, 0), sql`${t.number} > 0`)).orderBy(desc(t.number), t.id).limit(10),
  ]);

  const byDate = new Map<string, DayCounts>();
  const at = (d: string) => {
    let v = byDate.get(d);
    if (!v) byDate.set(d, (v = { participants: 0, assists: 0, new_followers: 0, net_new: 0, unfollows: 0 }));
    return v;
  };
  for (const r of joined) at(r.date).participants = Number(r.n);
  for (const r of followed) Object.assign(at(r.date), { assists: Number(r.assists ?? 0), new_followers: Number(r.all), net_new: Number(r.still ?? 0) });
  for (const r of left) at(r.date).unfollows = Number(r.n);

  const days = [];
  for (let d = start; d < end; d += DAY) {
    const date = dateOf(d);
    const v = byDate.get(date) ?? { participants: 0, assists: 0, new_followers: 0, net_new: 0, unfollows: 0 };
    days.push({ date, ...v, unfollow_rate: v.new_followers ? Math.round((v.unfollows / v.new_followers) * 1000) / 1000 : 0 });
  }
  const pick = (date: string) => {
    const v = byDate.get(date) ?? { participants: 0, assists: 0, new_followers: 0, unfollows: 0 };
    return { participants: v.participants, assists: v.assists, new_followers: v.new_followers, unfollows: v.unfollows };
  };
  return {
    days,
    today: pick(dateOf(today)),
    yesterday: pick(dateOf(today - DAY)),
    tiers: awards.map((w) => ({
      level: w.level,
      number: w.number,
      good: w.good,
      stock: w.stock,
      completions: tiers.filter((x) => x.progress >= w.level).reduce((s, x) => s + Number(x.n), 0),
    })),
    depth: depth.map((d) => ({ level: d.level, fans: Number(d.fans) })),
    leaderboard: leaders,
  };
}
