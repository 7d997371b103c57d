import { and, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { nonEmpty, schema } from '../db/client';
import { AppError } from '../errors';
import { sha256Hex, toBase64 } from '../lib/bytes';
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

/**
 * Sessions this isolate has just looked up, by hash, so an admin page's burst of API calls costs
 * one D1 read. Logging out drops the entry here; another isolate may trust the session for at
 * most RECENT_MS longer. Only found sessions are kept: a forged token always reaches D1.
 */
const RECENT_MS = 10_000;
const RECENT_MAX = 1000;
const recent = new Map<string, { user: SessionUser; until: number }>();

export async function findSession(db: Db, id: string, now = Date.now()): Promise<SessionUser | null> {
  if (!id || id.length > 128) return null;
  const key = await sha256Hex(id);
  const hit = recent.get(key);
  if (hit && hit.until > now) return hit.user;
  recent.delete(key);
  const row = await db
    .select({ id: schema.userInfo.id, username: schema.userInfo.username, expiresAt: schema.sessions.expiresAt })
    .from(schema.sessions)
    .innerJoin(schema.userInfo, eq(schema.userInfo.id, schema.sessions.userId))
    .where(and(eq(schema.sessions.id, key), gt(schema.sessions.expiresAt, now)))
    .get();
  if (!row) return null;
  const user = { id: row.id, username: row.username };
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(key, { user, until: Math.min(now + RECENT_MS, row.expiresAt) });
  return user;
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  const key = await sha256Hex(id);
  recent.delete(key);
  await db.delete(schema.sessions).where(eq(schema.sessions.id, key));
}

async function failuresIn(db: Db, keys: string[], now: number): Promise<number> {
  const rows = await db.select().from(schema.loginAttempts).where(sql`${schema.loginAttempts.key} in ${keys}`);
  return Math.max(0, ...rows.filter((r) => r.windowStart + WINDOW_MS > now).map((r) => r.failures));
}

async function recordFailure(db: Db, keys: string[], now: number): Promise<void> {
  await db.batch(
    nonEmpty(
      keys.map((key) =>
        db
          .insert(schema.loginAttempts)
          .values({ key, windowStart: now, failures: 1 })
          .onConflictDoUpdate({
            target: schema.loginAttempts.key,
            set: {
              failures: sql`case when ${schema.loginAttempts.windowStart} + ${WINDOW_MS} > ${now} then ${schema.loginAttempts.failures} + 1 else 1 end`,
              windowStart: sql`case when ${schema.loginAttempts.windowStart} + ${WINDOW_MS} > ${now} then ${schema.loginAttempts.windowStart} else ${now} end`,
            },
          }),
      ),
    ),
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
