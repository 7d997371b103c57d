import { and, asc, count, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { PartIn } from '../db/values';
import type { FanRow } from './fan-access';
import { waitingFor } from './review-queue';
import { nextTier, type Tier } from './tiers';

/** Where a fan stands in an activity: count, tiers (reached or not), what is next, and rank. */
export interface FanProgress {
  number: number;
  taskProgress: number;
  tiers: (Tier & { reached: boolean })[];
  next: { remaining: number; good: string } | null;
  /** 1 for the leader; fans with the same count share a rank. */
  rank: number;
  /** Assists waiting for their helpers' stay period (防刷): "N 人待确认". */
  waiting: number;
}

/** The fan's progress, read from D1 (the counter writes it within a round of each assist). */
export async function fanProgress(db: Db, { row }: FanRow): Promise<FanProgress> {
  const t = schema.takePartIn;
  const activityId = row.activityId!;
  const [awards, [ahead]] = await db.batch([
    db.select().from(schema.award).where(eq(schema.award.activityId, activityId)).orderBy(asc(schema.award.level)),
    db
      .select({ n: count() })
      .from(t)
      .where(and(eq(t.activityId, activityId), eq(t.partIn, PartIn.participant), gt(t.number, row.number))),
  ]);
  const tiers = awards.map((a) => ({ level: a.level, number: a.number, good: a.good, stock: a.stock, reached: row.taskProgress >= a.level }));
  const waiting = await waitingFor(db, activityId, row.id);
  return { number: row.number, taskProgress: row.taskProgress, tiers, next: nextTier(tiers, row.number), rank: ahead.n + 1, waiting };
}
