import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { nonEmpty, schema } from '../db/client';

/** At most `max` attempts under `key` in a fixed window of `windowMs`. */
export interface Limit {
  key: string;
  max: number;
  windowMs: number;
}

const r = schema.rateLimits;

/**
 * Counts one attempt against every limit (one D1 batch, a transaction) and says whether all are
 * still within their max. The attempt is counted before the work it guards, and each concurrent
 * attempt reads the count its own increment left: 40 parallel guesses get the numbers 1 to 40,
 * and only the first `max` go on.
 */
export async function countAttempt(db: Db, limits: Limit[], now = Date.now()): Promise<boolean> {
  const results = await db.batch(
    nonEmpty(
      limits.map(({ key, windowMs }) =>
        db
          .insert(r)
          .values({ key, windowEnd: now + windowMs, hits: 1 })
          .onConflictDoUpdate({
            target: r.key,
            // SQLite evaluates every SET expression against the row as it was.
            set: {
              hits: sql`case when ${r.windowEnd} > ${now} then ${r.hits} + 1 else 1 end`,
              windowEnd: sql`case when ${r.windowEnd} > ${now} then ${r.windowEnd} else ${now + windowMs} end`,
            },
          })
          .returning({ hits: r.hits }),
      ),
    ),
  );
  return results.every(([row], i) => row.hits <= limits[i].max);
}

/** Takes back one counted attempt under `key` (one that turned out legitimate). */
export async function forgiveAttempt(db: Db, key: string): Promise<void> {
  await db
    .update(r)
    .set({ hits: sql`max(${r.hits} - 1, 0)` })
    .where(eq(r.key, key));
}

/** Forgets every attempt under `key`. */
export async function clearAttempts(db: Db, key: string): Promise<void> {
  await db.delete(r).where(eq(r.key, key));
}
