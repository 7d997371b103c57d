import { eq, sql } from 'drizzle-orm';
import { createDb, nonEmpty, schema } from '../db/client';
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

type Outcome = 'done' | 'retry';

/**
 * Sends a batch of queued messages, each at most once: one D1 batch claims their keys in
 * message_log (a message already sent is not claimed again), the claimed ones are sent
 * concurrently, and one D1 batch records every attempt's errcode. Two D1 transactions per batch
 * instead of two per message keeps D1's single writer free for counting.
 */
export async function deliverMessages(env: Env, wechat: WeChatService, messages: OutboundMessage[], now = Date.now()): Promise<Outcome[]> {
  const db = createDb(env.DB);
  const log = schema.messageLog;
  const claims = await db.batch(
    nonEmpty(
      messages.map((m) =>
      db
        .insert(log)
        .values({ idempotencyKey: m.key, appid: m.appid, openId: m.message.touser, msgType: m.message.msgtype, summary: summarize(m.message), status: 'sending', attempts: 1 })
        .onConflictDoUpdate({ target: log.idempotencyKey, set: { attempts: sql`${log.attempts} + 1`, status: 'sending', updatedAt: now }, setWhere: sql`${log.status} = 'failed'` })
        .returning({ id: log.id }),
    )),
  );
  const results = await Promise.all(
    messages.map(async (m, i) => {
      const id = (claims[i] as { id: number }[])[0]?.id;
      if (id === undefined) return { outcome: 'done' as Outcome };
      try {
        await wechat.sendCustomMessage(m.appid, m.message);
        return { outcome: 'done' as Outcome, id, set: { status: 'sent' as const, errcode: 0, errmsg: 'ok' } };
      } catch (e) {
        if (!(e instanceof WeChatApiError || e instanceof AppError)) console.error('send failed unexpectedly', m.key, e);
        const errcode = e instanceof WeChatApiError ? e.errcode : null;
        const errmsg = (e instanceof Error ? e.message : String(e)).slice(0, 500);
        const final = e instanceof WeChatApiError ? !isTransient(e) : e instanceof AppError;
        return { outcome: (final ? 'done' : 'retry') as Outcome, id, set: { status: 'failed' as const, errcode, errmsg } };
      }
    }),
  );
  const updates = results.flatMap((r) => (r.id === undefined ? [] : [db.update(log).set({ ...r.set, updatedAt: Date.now() }).where(eq(log.id, r.id))]));
  if (updates.length) await db.batch(nonEmpty(updates));
  return results.map((r) => r.outcome);
}

/** Queue consumer: sends the batch, retrying transient failures with growing delays. */
export async function deliverBatch(env: Env, batch: MessageBatch<OutboundMessage>): Promise<void> {
  const outcomes = await deliverMessages(env, new WeChatService(env), batch.messages.map((m) => m.body));
  batch.messages.forEach((msg, i) => {
    if (outcomes[i] === 'retry') msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    else msg.ack();
  });
}
