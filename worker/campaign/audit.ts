/**
 * The audit log (PRODUCT §3.3): what operators did, who, when, on which activity. Each operator
 * sees only their own. Rows are written after the action succeeded; an action that changed
 * nothing (a retried decision) writes none.
 */
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import type { AuditAction } from './labels';

/** Who acted: the signed-in operator. */
export interface Actor {
  id: number;
  username: string;
}

export interface AuditEntry {
  action: AuditAction;
  activityId: number | null;
  /** What was acted on, in words. */
  target: string;
  detail?: Record<string, unknown>;
}

/** Records what `actor` did. */
export async function audit(db: Db, actor: Actor, e: AuditEntry, at: number): Promise<void> {
  await db
    .insert(schema.auditLog)
    .values({ mtbUserId: actor.id, actor: actor.username, activityId: e.activityId, action: e.action, target: e.target, detail: e.detail, at });
}

export interface AuditFilters {
  activity?: number;
  action?: AuditAction;
  /** Rows older than this id (the next page). */
  before?: number;
}

const a = schema.auditLog;

/** The operator's log, newest first, with the activity names; `next` continues it. */
export async function listAudit(db: Db, userId: number, f: AuditFilters, pageSize: number) {
  const rows = await db
    .select({ entry: a, activityName: schema.activity.name })
    .from(a)
    // Only the operator's own activities are named (an export may have filtered by any id).
    .leftJoin(schema.activity, and(eq(schema.activity.id, a.activityId), eq(schema.activity.mtbUserId, a.mtbUserId)))
    .where(
      and(
        eq(a.mtbUserId, userId),
        f.activity !== undefined ? eq(a.activityId, f.activity) : undefined,
        f.action !== undefined ? eq(a.action, f.action) : undefined,
        f.before !== undefined ? lt(a.id, f.before) : undefined,
      ),
    )
    .orderBy(desc(a.id))
    .limit(pageSize + 1);
  const items = rows.slice(0, pageSize);
  return { items, next: rows.length > pageSize ? items[items.length - 1].entry.id : null };
}
