import { and, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError } from '../errors';
import { sha256Hex, toBase64 } from '../lib/bytes';
import { DUMMY_HASH, verifyPassword } from './password';
import { clearAttempts, countAttempt, forgiveAttempt } from './rate-limit';

export const SESSION_COOKIE = 'sid';
export const SESSION_TTL_MS = 30 * 24 * 3600_000;

/** Login attempts allowed from one address per user, and per address over all users, in a window. */
const PER_USER_AND_ADDRESS = 5;
const PER_ADDRESS = 20;
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

/**
 * Checks a username (normalised: lowercase) and password. Every attempt is counted before the
 * password is, per user and address (5 in 15 minutes) and per address over all users (20): a
 * guesser gets five evaluations however many guesses arrive at once, and someone else's guesses
 * never lock the operator out where they log in from. Over either limit the answer is 429 until
 * the window passes. A success clears its user+address count and gives the address its attempt back.
 */
export async function authenticate(db: Db, username: string, password: string, address: string, now = Date.now()): Promise<SessionUser> {
  const pair = `login:${username}@${address}`;
  const from = `login:@${address}`;
  const within = await countAttempt(
    db,
    [
      { key: pair, max: PER_USER_AND_ADDRESS, windowMs: WINDOW_MS },
      { key: from, max: PER_ADDRESS, windowMs: WINDOW_MS },
    ],
    now,
  );
  if (!within) throw new AppError('rate_limited', '登录失败次数过多，请 15 分钟后再试');
  const user = await db.query.userInfo.findFirst({ where: eq(schema.userInfo.username, username) });
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) throw new AppError('unauthorized', '用户名或密码错误');
  await Promise.all([clearAttempts(db, pair), forgiveAttempt(db, from)]);
  return { id: user.id, username: user.username };
}
