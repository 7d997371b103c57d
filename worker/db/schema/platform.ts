import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { nowMs } from './now';

/** Operators of the console (媒体宝 users). */
export const userInfo = sqliteTable(
  'user_info',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    createdAt: integer('created_at').notNull().default(nowMs),
  },
  (t) => [uniqueIndex('user_info_username').on(t.username)],
);

/** Opaque login sessions; only the SHA-256 of the cookie value is stored. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => userInfo.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull().default(nowMs),
  },
  (t) => [index('sessions_user').on(t.userId), index('sessions_expires').on(t.expiresAt)],
);

/**
 * Rate-limit counters (auth/rate-limit.ts): attempts per key in fixed windows, e.g. logins per
 * user and address, logins and registrations per address. A row whose window has ended counts
 * from one again; housekeeping drops them.
 */
export const rateLimits = sqliteTable('rate_limits', {
  key: text('key').primaryKey(),
  windowEnd: integer('window_end').notNull(),
  hits: integer('hits').notNull(),
});

/** Official accounts authorized to the component, each tied to the operator who authorized it. */
export const publicNumbers = sqliteTable(
  'public_numbers',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => userInfo.id, { onDelete: 'cascade' }),
    authorizerAppid: text('authorizer_appid').notNull(),
    nickName: text('nick_name').notNull().default(''),
    userName: text('user_name').notNull().default(''),
    headImg: text('head_img').notNull().default(''),
    serviceType: integer('service_type').notNull().default(0),
    verifyType: integer('verify_type').notNull().default(-1),
    principalName: text('principal_name').notNull().default(''),
    alias: text('alias').notNull().default(''),
    qrcodeUrl: text('qrcode_url').notNull().default(''),
    funcInfo: text('func_info', { mode: 'json' }).$type<number[]>().notNull().default(sql`'[]'`),
    /** authorizer_refresh_token: must never be lost (61023 = operator must authorize again). */
    refreshToken: text('refresh_token').notNull(),
    authorized: integer('authorized').notNull().default(1),
    authorizedAt: integer('authorized_at').notNull().default(nowMs),
    revokedAt: integer('revoked_at'),
    updatedAt: integer('updated_at').notNull().default(nowMs),
  },
  (t) => [uniqueIndex('public_numbers_appid').on(t.authorizerAppid), index('public_numbers_user').on(t.userId)],
);

/** Small durable key/value facts of the platform, e.g. the latest component_verify_ticket. */
export const platformState = sqliteTable('platform_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull().default(nowMs),
});

/** One row per "授权公众号" click: ties WeChat's redirect back to the operator who started it. */
export const authorizeRequests = sqliteTable('authorize_requests', {
  id: text('id').primaryKey(),
  userId: integer('user_id')
    .notNull()
    .references(() => userInfo.id, { onDelete: 'cascade' }),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
});
