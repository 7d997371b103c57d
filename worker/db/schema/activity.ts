import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { nowMs } from './now';
import { publicNumbers, userInfo } from './platform';

/** 活动 (seed §7.1). Times are UTC epoch milliseconds. */
export const activity = sqliteTable(
  'activity',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    mtbUserId: integer('mtb_user_id')
      .notNull()
      .references(() => userInfo.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    startTime: integer('start_time').notNull(),
    endTime: integer('end_time').notNull(),
    /** 拉新保护: 1 开, 2 关 (seed values). */
    protectSwitch: integer('protect_switch').notNull().default(1),
    /** 取关扣助力: 1 on, 0 off. */
    unsubscribeDeduct: integer('unsubscribe_deduct').notNull().default(1),
    createdAt: integer('created_at').notNull().default(nowMs),
    updatedAt: integer('updated_at').notNull().default(nowMs),
    /** Soft delete: posters already shared keep resolving to "活动已结束". */
    deletedAt: integer('deleted_at'),
    /** Notice texts and template bindings the operator changed, by scene (messaging/notices.ts); the rest use defaults. */
    notices: text('notices', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** 防刷 burst rule: more than burst_count assists to one poster within burst_seconds holds it for review (null: off). */
    burstCount: integer('burst_count'),
    burstSeconds: integer('burst_seconds'),
    /** 防刷 stay period: an assist counts once the helper has stayed followed this long (null: off). */
    stayHours: integer('stay_hours'),
    /** After this time the claim page no longer takes claims (null: no deadline). */
    claimDeadline: integer('claim_deadline'),
    /** 1: the activity ends itself once every tier's prizes are gone. */
    endWhenGone: integer('end_when_gone').notNull().default(0),
  },
  (t) => [index('activity_user_time').on(t.mtbUserId, t.deletedAt, t.startTime)],
);

/** 参与公众号: activity ↔ account. */
export const publicJoinActivity = sqliteTable(
  'public_join_activity',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    accountId: integer('public_id')
      .notNull()
      .references(() => publicNumbers.id, { onDelete: 'cascade' }),
  },
  (t) => [uniqueIndex('pja_activity_public').on(t.activityId, t.accountId), index('pja_public').on(t.accountId)],
);

/** 奖励: level 1–3, number = assists needed, good = prize. */
export const award = sqliteTable(
  'award',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    level: integer('level').notNull(),
    number: integer('number').notNull(),
    good: text('good').notNull(),
    stock: integer('stock'),
    /** How the prize reaches the winner: 兑换码 (code), 实物 (shipping) or 线下核销 (onsite). */
    kind: text('kind', { enum: ['code', 'shipping', 'onsite'] })
      .notNull()
      .default('onsite'),
  },
  (t) => [uniqueIndex('award_activity_level').on(t.activityId, t.level)],
);

/** 海报配置. background_img is an UPLOADS key; layout is JSON (positions and sizes). */
export const posterSetting = sqliteTable(
  'poster_setting',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    backgroundImg: text('background_img').notNull(),
    keyWord: text('key_word').notNull(),
    rule: text('rule').notNull(),
    layout: text('layout', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** The texts a fan sends to ask for their progress and their prizes (checked for clashes like key_word). */
    progressKeyword: text('progress_keyword').notNull().default('进度'),
    claimKeyword: text('claim_keyword').notNull().default('领奖'),
  },
  (t) => [
    uniqueIndex('poster_setting_activity').on(t.activityId),
    index('poster_setting_keyword').on(t.keyWord),
    index('poster_setting_progress_keyword').on(t.progressKeyword),
    index('poster_setting_claim_keyword').on(t.claimKeyword),
  ],
);

/** 参与活动: one row per fan (open_id) per activity and account (seed §7.1, plus bookkeeping). */
export const takePartIn = sqliteTable(
  'take_part_in',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Null on a promo fan's row: a fan who came through a promo code and has joined no activity yet. */
    activityId: integer('activity_id').references(() => activity.id, { onDelete: 'cascade' }),
    accountId: integer('public_number_id')
      .notNull()
      .references(() => publicNumbers.id, { onDelete: 'cascade' }),
    /** The activity's (or the promo's) operator, copied here so the fans list (1M+ rows) is one index range per operator. */
    mtbUserId: integer('mtb_user_id').notNull(),
    openId: text('open_id').notNull(),
    nickName: text('nick_name'),
    avatar: text('avatar'),
    /** 0 其他粉丝 (a poster), 1 推广码, 2 其他. */
    origin: integer('origin').notNull().default(2),
    /** 0 关注中, 1 已取关. */
    looking: integer('looking').notNull().default(0),
    /** 0 参与 (has a poster), 1 不参与 (only helped someone). */
    partIn: integer('part_in').notNull().default(0),
    /** R2 key of the rendered poster. */
    poster: text('poster'),
    black: integer('black').notNull().default(0),
    level: integer('level').notNull().default(1),
    /** Owner's open_id (origin 0) or promo id (origin 1). */
    originOpenId: text('origin_open_id'),
    number: integer('number').notNull().default(0),
    taskProgress: integer('task_progress').notNull().default(0),
    /** 1 while this row's assist is counted in its inviter's number (cleared by 取关扣助力). */
    assistCounted: integer('assist_counted').notNull().default(0),
    ctime: integer('ctime').notNull().default(nowMs),
    subscribeTime: integer('subscribe_time'),
    unsubscribeTime: integer('unsubscribe_time'),
    /** QR of the poster: its content URL and expiry, and the background it was drawn on. */
    qrUrl: text('qr_url'),
    qrExpiresAt: integer('qr_expires_at'),
    posterBackground: text('poster_background'),
    /** The rest of the activity's design the poster was drawn with (layout and rule, hashed): a change re-renders it. */
    posterDesign: text('poster_design'),
  },
  (t) => [
    uniqueIndex('tpi_activity_public_open').on(t.activityId, t.accountId, t.openId),
    index('tpi_public_open').on(t.accountId, t.openId),
    // At most one promo fan's row per fan; a trigger drops it once the fan has an activity row (0004).
    uniqueIndex('tpi_promo_fan').on(t.accountId, t.openId).where(sql`activity_id IS NULL`),
    // Fans list: an index on (x) is (x, rowid) in SQLite, so "WHERE x = ? ORDER BY id DESC LIMIT n"
    // reads n entries instead of sorting every match.
    // Each filter has one, with mtb_user_id in it, so a page and the capped count are index-only.
    index('tpi_user').on(t.mtbUserId),
    index('tpi_user_black').on(t.mtbUserId, t.black),
    index('tpi_user_progress').on(t.mtbUserId, t.taskProgress),
    index('tpi_user_looking').on(t.mtbUserId, t.looking),
    index('tpi_user_origin').on(t.mtbUserId, t.origin),
    index('tpi_activity_user').on(t.activityId, t.mtbUserId),
    index('tpi_public_user').on(t.accountId, t.mtbUserId),
    // Partial: origin_open_id holds a promo id only when origin = 1 (the query must say "origin = 1" literally).
    index('tpi_promo').on(t.originOpenId, t.mtbUserId).where(sql`origin = 1`),
    // Covers the activity list's counts and the leaderboard without touching the rows.
    index('tpi_activity_part_number').on(t.activityId, t.partIn, t.number),
    // Counts an activity's helpers (origin = poster) for its figures without touching the rows.
    index('tpi_activity_origin').on(t.activityId, t.origin),
    // Per-day statistics, each answered from the index alone (bench: 550 → ~80 ms at 120k rows).
    index('tpi_activity_part_ctime').on(t.activityId, t.partIn, t.ctime),
    index('tpi_activity_subscribe').on(t.activityId, t.subscribeTime, t.origin, t.partIn, t.looking),
    index('tpi_activity_unsubscribe').on(t.activityId, t.unsubscribeTime),
    index('tpi_activity_progress').on(t.activityId, t.taskProgress),
    index('tpi_activity_level').on(t.activityId, t.level),
    // A poster's helpers (origin_open_id names its owner): the review queue's evidence.
    index('tpi_activity_inviter').on(t.activityId, t.originOpenId),
  ],
);

/**
 * Nickname search: every 1- and 2-character substring (ASCII lower-cased) of each take_part_in
 * nickname, kept by triggers (migrations/0002_fan_name_grams.sql). Searches are mostly 1–2 Chinese
 * characters, which neither an index on nick_name nor FTS5's trigram tokenizer (≥ 3) can serve;
 * this key answers them newest first, and a longer query is narrowed by its first 2 characters.
 */
export const fanNameGram = sqliteTable(
  'fan_name_gram',
  {
    mtbUserId: integer('mtb_user_id').notNull(),
    gram: text('gram').notNull(),
    tpiId: integer('tpi_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.mtbUserId, t.gram, t.tpiId] })],
);

/**
 * Every fan ever seen on an account (any activity, any promo, a plain follow): the memory that
 * 拉新保护 consults, and where promo attribution lives before the fan joins an activity.
 */
export const accountFan = sqliteTable(
  'account_fan',
  {
    accountId: integer('public_number_id')
      .notNull()
      .references(() => publicNumbers.id, { onDelete: 'cascade' }),
    openId: text('open_id').notNull(),
    /** Dedup key of the push that first recorded the fan: a retry of that push still counts as "new". */
    firstEvent: text('first_event').notNull(),
    firstSeenAt: integer('first_seen_at').notNull().default(nowMs),
    following: integer('following').notNull().default(1),
    promoId: integer('promo_id'),
  },
  (t) => [uniqueIndex('account_fan_pk').on(t.accountId, t.openId)],
);

/**
 * How far an activity's reminders (活动即将结束 / 活动已结束) have been queued: participants up to
 * `upto` (a take_part_in id), in id order, a batch per step; `done_at` once all were. Each step
 * moves `upto` by compare-and-set, so overlapping cron runs queue a batch at most twice, and the
 * notices' keys make the second copy harmless.
 */
export const activityReminder = sqliteTable(
  'activity_reminder',
  {
    activityId: integer('activity_id')
      .notNull()
      .references(() => activity.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['ending_soon', 'ended'] }).notNull(),
    upto: integer('upto').notNull().default(0),
    doneAt: integer('done_at'),
  },
  (t) => [primaryKey({ columns: [t.activityId, t.kind] })],
);
