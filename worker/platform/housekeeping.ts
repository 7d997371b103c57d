import { lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { purgeDedup } from './dedup';

/** Hourly: drops expired dedup keys, sessions, rate-limit counters and authorization requests. */
export async function purgeExpired(db: Db, now = Date.now()): Promise<void> {
  await purgeDedup(db, now);
  await db.delete(schema.sessions).where(lt(schema.sessions.expiresAt, now));
  await db.delete(schema.rateLimits).where(lt(schema.rateLimits.windowEnd, now));
  await db.delete(schema.authorizeRequests).where(lt(schema.authorizeRequests.expiresAt, now));
}
