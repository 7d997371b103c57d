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
    /**
     * `retrying`: the last attempt failed in a way worth another try (WeChat busy, unreachable or
     * late); the queue retries it. `skipped`: not sent, because the fan's customer-service window
     * had no room for it (errmsg says why).
     */
    status: text('status', { enum: ['sending', 'retrying', 'sent', 'failed', 'skipped'] }).notNull(),
    errcode: integer('errcode'),
    errmsg: text('errmsg'),
    attempts: integer('attempts').notNull().default(0),
    /**
     * The window send this message holds (`message` or `event`, and that window's opening time):
     * counted in service_window when it was first tried, and kept by its retries, so a send that
     * failed on the way neither loses its place nor spends a second one.
     */
    slot: text('slot', { enum: ['message', 'event'] }),
    slotAt: integer('slot_at'),
    /** 1 when the last attempt got no answer in time: WeChat may have delivered it. */
    unsure: integer('unsure').notNull().default(0),
    createdAt: integer('created_at').notNull().default(nowMs),
    updatedAt: integer('updated_at').notNull().default(nowMs),
  },
  (t) => [uniqueIndex('message_log_key').on(t.idempotencyKey), index('message_log_fan').on(t.appid, t.openId)],
);

/**
 * A fan's two customer-service windows with an account, as far as the worker knows them (WeChat
 * keeps them apart): the one opened by the fan's last message (5 sends within 48 h), `sent` of
 * those used; and the one opened by their last follow, scan or menu click (3 sends within a
 * minute). A window WeChat refused (45015/45047) without the worker knowing it stays at its
 * opening time with every send used: closed until the fan acts again.
 */
export const serviceWindow = sqliteTable(
  'service_window',
  {
    appid: text('appid').notNull(),
    openId: text('open_id').notNull(),
    openedAt: integer('opened_at').notNull(),
    sent: integer('sent').notNull().default(0),
    eventOpenedAt: integer('event_opened_at').notNull().default(0),
    eventSent: integer('event_sent').notNull().default(0),
    /** The dedup key of the push that opened the minute's window: WeChat's retry of it opens nothing new. */
    eventKey: text('event_key'),
  },
  (t) => [primaryKey({ columns: [t.appid, t.openId] })],
);
