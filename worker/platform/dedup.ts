import { eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import type { WeChatXml } from '../wechat/xml';

/** Keys are kept a day: far longer than WeChat's ~15 s of retries and the 5-minute signature window. */
export const DEDUP_TTL_MS = 24 * 3600_000;

/** Messages dedupe by MsgId; events by sender + CreateTime + Event + EventKey; per account. */
export function dedupKey(appid: string, msg: WeChatXml): string {
  if (msg.MsgId) return `${appid}:msg:${msg.MsgId}`;
  return `${appid}:evt:${msg.FromUserName ?? ''}:${msg.CreateTime ?? ''}:${msg.Event ?? msg.MsgType ?? ''}:${msg.EventKey ?? ''}`;
}

/** Claims a key; false when another delivery of the same push already took it. */
export async function claimPush(db: Db, key: string): Promise<boolean> {
  const rows = await db.insert(schema.messageDedup).values({ key }).onConflictDoNothing().returning({ key: schema.messageDedup.key });
  return rows.length === 1;
}

/** Gives a key back after its handler failed, so WeChat's next retry is handled. */
export async function releasePush(db: Db, key: string): Promise<void> {
  await db.delete(schema.messageDedup).where(eq(schema.messageDedup.key, key));
}

export async function purgeDedup(db: Db, now = Date.now()): Promise<void> {
  await db.delete(schema.messageDedup).where(lt(schema.messageDedup.createdAt, now - DEDUP_TTL_MS));
}
