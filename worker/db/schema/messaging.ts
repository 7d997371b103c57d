import { nowMs } from './now';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';


/** Keys of pushes already taken, so WeChat's retries (3 in ~15 s) are handled once. */
export const messageDedup = sqliteTable('message_dedup', {
  key: text('key').primaryKey(),
  createdAt: integer('created_at').notNull().default(nowMs),
}, (t) => [index('message_dedup_created').on(t.createdAt)]);

/** Every customer-service send attempt and WeChat's answer to it. */
export const messageLog = sqliteTable('message_log', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** Producer-chosen key: a message redelivered by the queue is sent at most once. */
  idempotencyKey: text('idempotency_key').notNull(),
  appid: text('appid').notNull(),
  openId: text('open_id').notNull(),
  msgType: text('msg_type').notNull(),
  summary: text('summary').notNull().default(''),
  status: text('status', { enum: ['sending', 'sent', 'failed'] }).notNull(),
  errcode: integer('errcode'),
  errmsg: text('errmsg'),
  attempts: integer('attempts').notNull().default(0),
  createdAt: integer('created_at').notNull().default(nowMs),
  updatedAt: integer('updated_at').notNull().default(nowMs),
}, (t) => [
  uniqueIndex('message_log_key').on(t.idempotencyKey),
  index('message_log_fan').on(t.appid, t.openId),
]);
