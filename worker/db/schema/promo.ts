import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { nowMs } from './now';
import { publicNumbers, userInfo } from './platform';

/** 推广码: a permanent QR_LIMIT_STR_SCENE "2_{id}" for a channel. */
export const promo = sqliteTable(
  'promo',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** R2 key of the QR PNG. */
    qr: text('qr'),
    qrUrl: text('qr_url'),
    accountId: integer('public_id')
      .notNull()
      .references(() => publicNumbers.id, { onDelete: 'cascade' }),
    mtbUserId: integer('mtb_user_id')
      .notNull()
      .references(() => userInfo.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull().default(nowMs),
    /** Deleted channels keep their QR valid in WeChat; later scans count as "deleted channel". */
    deletedAt: integer('deleted_at'),
  },
  (t) => [index('promo_user').on(t.mtbUserId, t.deletedAt, t.accountId)],
);

/** A follow through a promo QR: one row per (promo, fan), latest state. */
export const promoFollow = sqliteTable(
  'promo_follow',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    promoId: integer('promo_id').notNull(),
    accountId: integer('public_number_id').notNull(),
    openId: text('open_id').notNull(),
    subscribeTime: integer('subscribe_time').notNull(),
    looking: integer('looking').notNull().default(0),
    unsubscribeTime: integer('unsubscribe_time'),
  },
  (t) => [uniqueIndex('promo_follow_fan').on(t.promoId, t.openId), index('promo_follow_day').on(t.promoId, t.subscribeTime)],
);
