import { lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { purgeDedup } from './dedup';

/** Template receipts wait this long for their send's record (seconds, normally). */
const RECEIPT_TTL_MS = 7 * 24 * 3600_000;

/** Hourly: drops expired dedup keys, sessions, rate-limit counters, authorization requests and old template receipts. */
export async function purgeExpired(db: Db, now = Date.now()): Promise<void> {
  await purgeDedup(db, now);
  await db.delete(schema.sessions).where(lt(schema.sessions.expiresAt, now));
  await db.delete(schema.rateLimits).where(lt(schema.rateLimits.windowEnd, now));
  await db.delete(schema.authorizeRequests).where(lt(schema.authorizeRequests.expiresAt, now));
  await db.delete(schema.templateReceipt).where(lt(schema.templateReceipt.createdAt, now - RECEIPT_TTL_MS));
}
