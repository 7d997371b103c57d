import { and, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { nonEmpty, schema } from '../db/client';
import { AppError } from '../errors';
import { sha256Hex, toBase64 } from '../wechat/bytes';
import { DUMMY_HASH, verifyPassword } from './password';

export const SESSION_COOKIE = 'sid';
export const SESSION_TTL_MS = 30 * 24 * 3600_000;

/** Login failures allowed per key (username, client address) in one window. */
const MAX_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;

export interface SessionUser {
  id: number;
  username: string;
}

/** Creates a session; the caller gets the opaque id, the database keeps only its hash. */
export async function createSession(db: Db, userId: number, now = Date.now()): Promise<{ id: string; expiresAt: number }> {
  const id = toBase64(crypto.getRandomValues(new Uint8Array(32))).replace(/[+/=]/g, (c) => ({ '+': '-', '/': '_', '=': '' })[c]!);
  const expiresAt = now + SESSION_TTL_MS;
  await db.insert(schema.sessions).values({ id: await sha256Hex(id), userId, expiresAt });
  return { id, expiresAt };
}

export async function findSession(db: Db, id: string, now = Date.now()): Promise<SessionUser | null> {
  if (!id || id.length > 128) return null;
  const row = await db
    .select({ id: schema.userInfo.id, username: schema.userInfo.username })
    .from(schema.sessions)
    .innerJoin(schema.userInfo, eq(schema.userInfo.id, schema.sessions.userId))
    .where(and(eq(schema.sessions.id, await sha256Hex(id)), gt(schema.sessions.expiresAt, now)))
    .get();
  return row ?? null;
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.delete(schema.sessions).where(eq(schema.sessions.id, await sha256Hex(id)));
}

async function failuresIn(db: Db, keys: string[], now: number): Promise<number> {
  const rows = await db.select().from(schema.loginAttempts).where(sql`${schema.loginAttempts.key} in ${keys}`);
  return Math.max(0, ...rows.filter((r) => r.windowStart + WINDOW_MS > now).map((r) => r.failures));
}

async function recordFailure(db: Db, keys: string[], now: number): Promise<void> {
  await db.batch(
    nonEmpty(
      keys.map((key) =>
      db.insert(schema.loginAttempts).values({ key, windowStart: now, failures: 1 }).onConflictDoUpdate({
        target: schema.loginAttempts.key,
        set: {
          failures: sql`case when ${schema.loginAttempts.windowStart} + ${WINDOW_MS} > ${now} then ${schema.loginAttempts.failures} + 1 else 1 end`,
          windowStart: sql`case when ${schema.loginAttempts.windowStart} + ${WINDOW_MS} > ${now} then ${schema.loginAttempts.windowStart} else ${now} end`,
        },
      }),
    )),
  );
}

/**
 * Checks a username and password, rate-limited per username and per client address: after
 * five failures in 15 minutes the key is refused (429) until the window passes.
 */
export async function authenticate(db: Db, username: string, password: string, clientIp: string, now = Date.now()): Promise<SessionUser> {
  const keys = [`user:${username.toLowerCase()}`, `ip:${clientIp}`];
  if ((await failuresIn(db, keys, now)) >= MAX_FAILURES) {
    throw new AppError('rate_limited', '登录失败次数过多，请 15 分钟后再试');
  }
  const user = await db.query.userInfo.findFirst({ where: eq(schema.userInfo.username, username) });
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) {
    await recordFailure(db, keys, now);
    throw new AppError('unauthorized', '用户名或密码错误');
  }
  await db.delete(schema.loginAttempts).where(eq(schema.loginAttempts.key, keys[0]));
  return { id: user.id, username: user.username };
}
