import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { activity } from './activity';
import { nowMs } from './now';

/** Where a prize stands: won → claimed → fulfilled, or held for review, or void. */
export const WINNER_STATUSES = ['won', 'claimed', 'fulfilled', 'void', 'held'] as const;

/**
 * A prize won: one per poster owner and tier. The activity's counter creates it (and holds,
 * releases or voids it) through its outbox; the fan's claim page and the operator's redeem and
 * ship move it along with guarded updates.
 */
export const winner = sqliteTable(
  'winner',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    /** The activity's operator, copied here so every query is one operator's. */
    mtbUserId: integer('mtb_user_id').notNull(),
    /** The winner's take_part_in row (their poster). */
    partInId: integer('part_in_id').notNull(),
    accountId: integer('public_number_id').notNull(),
    openId: text('open_id').notNull(),
    level: integer('level').notNull(),
    kind: text('kind', { enum: ['code', 'shipping', 'onsite'] }).notNull(),
    /** The prize as the fan was told it. */
    good: text('good').notNull(),
    status: text('status', { enum: WINNER_STATUSES }).notNull(),
    /** The 兑换码 given (code tiers) or the claim code staff redeem (onsite tiers). */
    code: text('code'),
    wonAt: integer('won_at').notNull(),
    claimedAt: integer('claimed_at'),
    fulfilledAt: integer('fulfilled_at'),
    contactName: text('contact_name'),
    contactPhone: text('contact_phone'),
    contactRegion: text('contact_region'),
    contactAddress: text('contact_address'),
    contactErasedAt: integer('contact_erased_at'),
    shipCompany: text('ship_company'),
    trackingNo: text('tracking_no'),
    updatedAt: integer('updated_at').notNull().default(nowMs),
  },
  (t) => [
    uniqueIndex('winner_activity_owner_level').on(t.activityId, t.partInId, t.level),
    index('winner_activity_status').on(t.activityId, t.status),
    index('winner_activity_level').on(t.activityId, t.level),
    index('winner_user_code').on(t.mtbUserId, t.code),
  ],
);

/** 兑换码 imported for a code tier; the activity's counter holds the pool and hands them out. */
export const prizeCode = sqliteTable(
  'prize_code',
  {
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    level: integer('level').notNull(),
    code: text('code').notNull(),
    importedAt: integer('imported_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.activityId, t.code] }), index('prize_code_level').on(t.activityId, t.level)],
);
