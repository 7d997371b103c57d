import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';

export type Account = typeof schema.publicNumbers.$inferSelect;

/** The authorized (not revoked) account behind a callback appid, if any. */
export function authorizedAccount(db: Db, appid: string): Promise<Account | undefined> {
  return db.query.publicNumbers.findFirst({
    where: and(eq(schema.publicNumbers.authorizerAppid, appid), eq(schema.publicNumbers.authorized, 1)),
  });
}

/**
 * Records a follow on the account and tells whether this push is the fan's first sighting there.
 * A retry of that same push still counts as first (the row remembers the push that created it).
 */
export async function recordFollow(db: Db, accountId: number, openId: string, eventKey: string, promoId: number | null, now: number) {
  const [row] = await db
    .insert(schema.accountFan)
    .values({ publicNumberId: accountId, openId, firstEvent: eventKey, firstSeenAt: now, following: 1, promoId })
    .onConflictDoUpdate({ target: [schema.accountFan.publicNumberId, schema.accountFan.openId], set: { following: 1 } })
    .returning({ firstEvent: schema.accountFan.firstEvent, promoId: schema.accountFan.promoId });
  return { firstSighting: row.firstEvent === eventKey, promoId: row.promoId };
}

/** Records any other sighting (a keyword) without marking a follow. */
export async function recordSeen(db: Db, accountId: number, openId: string, eventKey: string, now: number) {
  const [row] = await db
    .insert(schema.accountFan)
    .values({ publicNumberId: accountId, openId, firstEvent: eventKey, firstSeenAt: now })
    .onConflictDoUpdate({ target: [schema.accountFan.publicNumberId, schema.accountFan.openId], set: { following: 1 } })
    .returning({ promoId: schema.accountFan.promoId });
  return row;
}
