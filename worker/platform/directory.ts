import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { HOME_SHARD } from '../db/shards';

/** Lookups rarely change (an account moves only when re-authorized by another operator); each isolate keeps them a minute. */
const TTL_MS = 60_000;
const operators = new Map<number, { shard: string; at: number }>();
const accounts = new Map<string, { shard: string; at: number }>();

/** A lookup answered from this isolate's cache for a minute; no row means the home database. */
async function remembered<K>(cache: Map<K, { shard: string; at: number }>, key: K, now: number, load: () => Promise<string | undefined>): Promise<string> {
  const hit = cache.get(key);
  if (hit && now - hit.at < TTL_MS) return hit.shard;
  const shard = (await load()) ?? HOME_SHARD;
  cache.set(key, { shard, at: now });
  return shard;
}

/**
 * The directory of shards in the home database: which D1 database holds an operator's data, and
 * an authorized account's (so a push finds its shard from the appid in its URL). Anything without
 * a row lives in the home database.
 */
export class Directory {
  constructor(private readonly home: Db) {}

  /** The shard of an operator's data. */
  operatorShard(userId: number, now = Date.now()): Promise<string> {
    return remembered(
      operators,
      userId,
      now,
      async () => (await this.home.query.operatorShard.findFirst({ where: eq(schema.operatorShard.userId, userId) }))?.shard,
    );
  }

  /** The shard of an account's pushes: its operator's. */
  accountShard(appid: string, now = Date.now()): Promise<string> {
    return remembered(accounts, appid, now, async () => (await this.home.query.accountShard.findFirst({ where: eq(schema.accountShard.appid, appid) }))?.shard);
  }

  /**
   * Puts a new operator on `shard`. Their data there refers to their user_info row, so a shard
   * other than home gets a copy of it: the same id and username, and a password hash that never
   * verifies (logins read the home row).
   */
  async placeOperator(user: { id: number; username: string }, shard: string, shardDb: Db): Promise<void> {
    if (shard !== HOME_SHARD) await shardDb.insert(schema.userInfo).values({ id: user.id, username: user.username, passwordHash: '!' }).onConflictDoNothing();
    await this.home.insert(schema.operatorShard).values({ userId: user.id, shard }).onConflictDoNothing();
    operators.set(user.id, { shard, at: Date.now() });
  }

  /**
   * Records that `userId` (on `shard`) holds the account; false when another operator already
   * does, on any shard (an account belongs to the first operator who authorized it).
   */
  async claimAccount(appid: string, userId: number, shard: string): Promise<boolean> {
    const [row] = await this.home
      .insert(schema.accountShard)
      .values({ appid, shard, userId })
      .onConflictDoUpdate({ target: schema.accountShard.appid, set: { shard }, setWhere: eq(schema.accountShard.userId, userId) })
      .returning();
    if (!row) return false;
    accounts.set(appid, { shard, at: Date.now() });
    return true;
  }
}
