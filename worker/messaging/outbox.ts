import { eq, sql } from 'drizzle-orm';
import { createDb, schema } from '../db/client';
import { AppError } from '../errors';
import { BUSY, UNREACHABLE, WeChatApiError } from '../wechat/api';
import type { CustomMessage } from '../wechat/authorizer';
import { WeChatService } from '../wechat-service';

/** A customer-service message waiting to be sent; `key` makes redeliveries harmless. */
export interface OutboundMessage {
  key: string;
  appid: string;
  message: CustomMessage;
}

/** Queues messages; they are sent after WeChat's push has been answered. */
export async function enqueueMessages(env: Env, messages: OutboundMessage[]): Promise<void> {
  if (messages.length) await env.OUTBOX.sendBatch(messages.map((body) => ({ body, contentType: 'json' as const })));
}

const summarize = (m: CustomMessage) =>
  (m.msgtype === 'text' ? m.text.content : m.msgtype === 'news' ? m.news.articles[0].title : m.image.media_id).slice(0, 200);

/** Transient answers worth another try later; everything else (45015, 45047, 43004…) is final. */
const isTransient = (e: unknown) => e instanceof WeChatApiError && (e.errcode === BUSY || e.errcode === UNREACHABLE);

/**
 * Sends one queued message at most once: a row in message_log claims the key, records every
 * attempt's errcode, and a message already sent is acknowledged without sending again.
 * Returns whether the queue should retry it.
 */
export async function deliverMessage(env: Env, wechat: WeChatService, m: OutboundMessage, now = Date.now()): Promise<'done' | 'retry'> {
  const db = createDb(env.DB);
  const claimed = await db
    .insert(schema.messageLog)
    .values({ idempotencyKey: m.key, appid: m.appid, openId: m.message.touser, msgType: m.message.msgtype, summary: summarize(m.message), status: 'sending', attempts: 1 })
    .onConflictDoUpdate({
      target: schema.messageLog.idempotencyKey,
      set: { attempts: sql`${schema.messageLog.attempts} + 1`, status: 'sending', updatedAt: now },
      setWhere: sql`${schema.messageLog.status} = 'failed'`,
    })
    .returning({ id: schema.messageLog.id });
  if (!claimed.length) return 'done';
  const id = claimed[0].id;
  try {
    await wechat.sendCustomMessage(m.appid, m.message);
    await db.update(schema.messageLog).set({ status: 'sent', errcode: 0, errmsg: 'ok', updatedAt: Date.now() }).where(eq(schema.messageLog.id, id));
    return 'done';
  } catch (e) {
    const errcode = e instanceof WeChatApiError ? e.errcode : null;
    const errmsg = e instanceof Error ? e.message : String(e);
    await db.update(schema.messageLog).set({ status: 'failed', errcode, errmsg: errmsg.slice(0, 500), updatedAt: Date.now() }).where(eq(schema.messageLog.id, id));
    if (isTransient(e)) return 'retry';
    if (e instanceof WeChatApiError || e instanceof AppError) return 'done';
    throw e;
  }
}

/** Queue consumer: sends each message, retrying transient failures with growing delays. */
export async function deliverBatch(env: Env, batch: MessageBatch<OutboundMessage>): Promise<void> {
  const wechat = new WeChatService(env);
  await Promise.all(
    batch.messages.map(async (msg) => {
      try {
        const outcome = await deliverMessage(env, wechat, msg.body);
        if (outcome === 'retry') msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
        else msg.ack();
      } catch (e) {
        console.error('outbox delivery failed', msg.body.key, e);
        msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
      }
    }),
  );
}
