import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { activity } from './activity';

/**
 * An assist not counted yet (防刷): held because its poster is under review (`burst`), or
 * waiting for the helper's stay period (`stay`). The activity's counter writes it through its
 * outbox, absolute each time, and records how it ended.
 */
export const assistHold = sqliteTable(
  'assist_hold',
  {
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    accountId: integer('public_number_id').notNull(),
    /** The helper. */
    openId: text('open_id').notNull(),
    /** The poster owner's take_part_in row. */
    ownerRowId: integer('owner_row_id').notNull(),
    reason: text('reason', { enum: ['burst', 'stay'] }).notNull(),
    /** When the helper followed through the poster. */
    at: integer('at').notNull(),
    /** Stay period: when it counts if the helper still follows. */
    dueAt: integer('due_at'),
    /** Null while waiting; counted, dropped (voided or barred), or left (unfollowed before it counted). */
    outcome: text('outcome', { enum: ['counted', 'dropped', 'left'] }),
    resolvedAt: integer('resolved_at'),
    /** When the helper unfollowed while the assist was held or waiting (the review's evidence). */
    leftAt: integer('left_at'),
  },
  (t) => [primaryKey({ columns: [t.activityId, t.accountId, t.openId] }), index('assist_hold_owner').on(t.activityId, t.ownerRowId, t.outcome)],
);

/** A poster flagged by the burst rule, and the operator's decision on it. */
export const review = sqliteTable(
  'review',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    mtbUserId: integer('mtb_user_id').notNull(),
    /** The flagged poster's owner (take_part_in row). */
    partInId: integer('part_in_id').notNull(),
    status: text('status', { enum: ['flagged', 'approved', 'voided'] }).notNull(),
    flaggedAt: integer('flagged_at').notNull(),
    decidedAt: integer('decided_at'),
    /** The operator who decided (username). */
    decidedBy: text('decided_by'),
  },
  (t) => [uniqueIndex('review_activity_poster').on(t.activityId, t.partInId), index('review_activity_status').on(t.activityId, t.status)],
);

/** What operators did (防刷 §3.3): who, when, what, on which activity. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The operator whose log this is (and who acted). */
    mtbUserId: integer('mtb_user_id').notNull(),
    /** Their username when they acted. */
    actor: text('actor').notNull(),
    activityId: integer('activity_id'),
    action: text('action').notNull(),
    /** What was acted on, in words (a fan, a prize, a tier). */
    target: text('target').notNull().default(''),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
    at: integer('at').notNull(),
  },
  (t) => [
    index('audit_user').on(t.mtbUserId, t.id),
    index('audit_user_activity').on(t.mtbUserId, t.activityId, t.id),
    index('audit_user_action').on(t.mtbUserId, t.action, t.id),
  ],
);
