import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError, notFound } from '../errors';
import { unwrap } from '../rpc-result';
import type { ImportedCodes } from './counter/activity-counter';
import type { Counters } from './counter/stub';

/**
 * Adds 兑换码 to one of the operator's code tiers. The activity's counter keeps the pool and
 * hands each code to exactly one winner; it also refuses codes the activity already has.
 */
export async function importCodes(
  { db, counters }: { db: Db; counters: Counters },
  userId: number,
  activityId: number,
  level: number,
  codes: string[],
  now: number,
): Promise<ImportedCodes> {
  const [tier] = await db
    .select({ kind: schema.award.kind })
    .from(schema.award)
    .innerJoin(schema.activity, eq(schema.activity.id, schema.award.activityId))
    .where(
      and(eq(schema.award.activityId, activityId), eq(schema.award.level, level), eq(schema.activity.mtbUserId, userId), isNull(schema.activity.deletedAt)),
    );
  if (!tier) throw notFound('奖励档位');
  if (tier.kind !== 'code') throw new AppError('conflict', '这一档的领奖方式不是兑换码，不能导入兑换码');
  return unwrap(await counters(activityId).importCodes({ activityId, level, codes, at: now }));
}
