import { and, count, eq, inArray, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Origin, PartIn } from '../db/values';
import type { ActivityFigures } from './figures';

const t = schema.takePartIn;

/**
 * The queries that count {@link ActivityFigures} for a set of activities (a list of ids or a query
 * selecting them, so they ride in the caller's D1 batch). Each reads one index range per activity:
 * participants' rows with their counts (tpi_activity_part_number), helpers' rows (tpi_activity_origin).
 */
export function figureQueries(db: Db, ids: number[] | SQLWrapper) {
  return [
    db
      .select({ activityId: t.activityId, participants: count(), net: sql<number>`coalesce(sum(${t.number}), 0)` })
      .from(t)
      .where(and(inArray(t.activityId, ids), eq(t.partIn, PartIn.participant)))
      .groupBy(t.activityId),
    // Only a counted assist writes a helper's row (origin = poster), and a fan helps once per activity.
    db
      .select({ activityId: t.activityId, helpers: count() })
      .from(t)
      .where(and(inArray(t.activityId, ids), eq(t.origin, Origin.poster)))
      .groupBy(t.activityId),
  ] as const;
}

type Queries = ReturnType<typeof figureQueries>;
type FigureRows = readonly [Awaited<Queries[0]>, Awaited<Queries[1]>];

/** One activity's figures from the results of {@link figureQueries}. */
export function figuresOf(activityId: number, [owners, helpers]: FigureRows): ActivityFigures {
  const o = owners.find((r) => r.activityId === activityId);
  const h = Number(helpers.find((r) => r.activityId === activityId)?.helpers ?? 0);
  return { participants: Number(o?.participants ?? 0), helpers: h, assists_gross: h, assists_net: Number(o?.net ?? 0) };
}
