import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { nowMs } from './now';

/** Keys of pushes already taken, so WeChat's retries (3 in ~15 s) are handled once. */
export const messageDedup = sqliteTable(
  'message_dedup',
  {
    key: text('key').primaryKey(),
    createdAt: integer('created_at').notNull().default(nowMs),
  },
  (t) => [index('message_dedup_created').on(t.createdAt)],
);

/** Every customer-service send attempt and WeChat's answer to it. */
export const messageLog = sqliteTable(
  'message_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Producer-chosen key: a message redelivered by the queue is sent at most once. */
    idempotencyKey: text('idempotency_key').notNull(),
    appid: text('appid').notNull(),
    openId: text('open_id').notNull(),
    msgType: text('msg_type').notNull(),
    summary: text('summary').notNull().default(''),
    /** `skipped`: not sent, because the fan's customer-service window had no room for it (errmsg says why). */
    status: text('status', { enum: ['sending', 'sent', 'failed', 'skipped'] }).notNull(),
    errcode: integer('errcode'),
    errmsg: text('errmsg'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: integer('created_at').notNull().default(nowMs),
    updatedAt: integer('updated_at').notNull().default(nowMs),
  },
  (t) => [uniqueIndex('message_log_key').on(t.idempotencyKey), index('message_log_fan').on(t.appid, t.openId)],
);

/**
 * A fan's customer-service window with an account, as far as the worker knows it: opened by the
 * fan's last message (WeChat then allows a few sends within 48 h), `sent` of those used. A fan
 * WeChat refused (45015/45047) without a known window gets `opened_at` 0: closed until they write.
 */
export const serviceWindow = sqliteTable(
  'service_window',
  {
    appid: text('appid').notNull(),
    openId: text('open_id').notNull(),
    openedAt: integer('opened_at').notNull(),
    sent: integer('sent').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.appid, t.openId] })],
);
