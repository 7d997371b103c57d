import { sql } from 'drizzle-orm';
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

/** How a notice reached the fan (DESIGN.md's contract): in the reply to their push, by customer service, by template, or not at all. */
export const CHANNELS = ['passive', 'custom', 'template', 'none'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Where each message to a fan stands: `sending`; `retrying` (the last attempt failed in a way
 * worth another try: WeChat busy, unreachable or late); `sent` (WeChat took it); a template's
 * receipt then makes it `delivered` or `blocked` (the fan refuses the account's templates), or
 * `failed`; `failed` (WeChat refused it for good; errcode and errmsg say why); `skipped` (no
 * channel could reach the fan; errmsg says why).
 */
export const MESSAGE_STATUSES = ['sending', 'retrying', 'sent', 'delivered', 'blocked', 'failed', 'skipped'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Every message to a fan, one row each, with how it went (or why it did not). */
export const messageLog = sqliteTable(
  'message_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Producer-chosen key: a message redelivered by the queue is sent at most once. */
    idempotencyKey: text('idempotency_key').notNull(),
    appid: text('appid').notNull(),
    openId: text('open_id').notNull(),
    /** The activity a notice belongs to (null: a message outside any campaign). */
    activityId: integer('activity_id'),
    /** The notice scene (messaging/notices.ts), `poster` for the poster image, null for other messages. */
    scene: text('scene'),
    /** Null until a channel was chosen. */
    channel: text('channel', { enum: CHANNELS }),
    /** text, news, image or template. */
    msgType: text('msg_type').notNull(),
    /** What the fan read (or would have read). */
    summary: text('summary').notNull().default(''),
    status: text('status', { enum: MESSAGE_STATUSES }).notNull(),
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
    /** A template send's msgid, which its TEMPLATESENDJOBFINISH receipt names. */
    msgid: text('msgid'),
    createdAt: integer('created_at').notNull().default(nowMs),
    updatedAt: integer('updated_at').notNull().default(nowMs),
  },
  (t) => [
    uniqueIndex('message_log_key').on(t.idempotencyKey),
    // A fan's history, newest first (an index on (x) is (x, rowid) in SQLite).
    index('message_log_fan').on(t.appid, t.openId),
    // An activity's history, newest first.
    index('message_log_activity').on(t.activityId),
    index('message_log_msgid').on(t.appid, t.msgid).where(sql`msgid IS NOT NULL`),
  ],
);

/**
 * Template receipts (TEMPLATESENDJOBFINISH) as WeChat pushed them. A receipt can arrive before the
 * consumer has recorded the send's msgid; the consumer then applies it from here.
 */
export const templateReceipt = sqliteTable(
  'template_receipt',
  {
    appid: text('appid').notNull(),
    msgid: text('msgid').notNull(),
    /** delivered, blocked or failed. */
    status: text('status', { enum: ['delivered', 'blocked', 'failed'] }).notNull(),
    detail: text('detail').notNull(),
    createdAt: integer('created_at').notNull().default(nowMs),
  },
  (t) => [primaryKey({ columns: [t.appid, t.msgid] }), index('template_receipt_created').on(t.createdAt)],
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
