import { and, asc, count, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { PartIn } from '../db/values';
import { nextStep } from './notice-vars';
import { nextTier, type Tier } from './tiers';

/** A take_part_in row. */
type Row = typeof schema.takePartIn.$inferSelect;
const t = schema.takePartIn;

/** Where a fan stands in an activity: count, tiers (reached or not), what is next, and rank. */
export interface FanProgress {
  number: number;
  taskProgress: number;
  tiers: (Tier & { reached: boolean })[];
  next: { level: number; remaining: number; good: string } | null;
  /** "再邀请 2 人可得第二档【保温杯】", or "你已完成全部任务". */
  nextStep: string;
  /** 1 for the leader; fans with the same count share a rank. */
  rank: number;
}

/** How many participants of the row's activity are ahead of it (index-only: tpi_activity_part_number). */
const ahead = (db: Db, row: Row) =>
  db
    .select({ n: count() })
    .from(t)
    .where(and(eq(t.activityId, row.activityId!), eq(t.partIn, PartIn.participant), gt(t.number, row.number)));

/** Fans' progress in their activities (rows of any activities), read from D1 in one round trip. */
export async function progressOf(db: Db, rows: Row[]): Promise<FanProgress[]> {
  if (!rows.length) return [];
  const ids = [...new Set(rows.map((r) => r.activityId!))];
  const [awards, ...before] = await db.batch([
    db.select().from(schema.award).where(inArray(schema.award.activityId, ids)).orderBy(asc(schema.award.level)),
    ...rows.map((row) => ahead(db, row)),
  ]);
  const aheadCounts = before.map(([a]) => Number(a.n));
  return rows.map((row, i) => {
    const tiers = awards
      .filter((a) => a.activityId === row.activityId)
      .map((a) => ({ level: a.level, number: a.number, good: a.good, stock: a.stock, reached: row.taskProgress >= a.level }));
    const next = nextTier(tiers, row.number, row.taskProgress);
    return {
      number: row.number,
      taskProgress: row.taskProgress,
      tiers,
      next,
      nextStep: nextStep(tiers, row.number, row.taskProgress),
      rank: aheadCounts[i] + 1,
    };
  });
}

/** The activity's leaders (participants with at least one assist), most assists first, then who joined first. */
export function leaderboard(db: Db, activityId: number, limit = 10) {
  return db
    .select({ id: t.id, openId: t.openId, nickName: t.nickName, avatar: t.avatar, number: t.number, taskProgress: t.taskProgress })
    .from(t)
    .where(and(eq(t.activityId, activityId), eq(t.partIn, PartIn.participant), sql`${t.number} > 0`))
    .orderBy(desc(t.number), t.id)
    .limit(limit);
}

/** "小*": a nickname others may see on a fan's page (the first character); a fan WeChat has not named is "微信好友". */
export function maskName(name: string | null | undefined): string {
  const first = [...(name ?? '').trim()][0];
  return first ? `${first}*` : '微信好友';
}
