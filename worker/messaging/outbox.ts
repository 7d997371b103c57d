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

// One statement each to claim and to record a whole batch, over JSON rows (json_each): the
// consumer's cost stays one D1 round trip per step however many messages a batch holds. A claim
// inserts the key, or takes back a key whose last attempt failed; a key being sent or sent is
// not returned, so it is not sent again.
const CLAIM = `INSERT INTO message_log (idempotency_key, appid, open_id, msg_type, summary, status, attempts)
  SELECT m.value ->> 0, m.value ->> 1, m.value ->> 2, m.value ->> 3, m.value ->> 4, 'sending', 1 FROM json_each(?1) AS m WHERE true
  ON CONFLICT (idempotency_key) DO UPDATE SET attempts = attempts + 1, status = 'sending', updated_at = ?2 WHERE status = 'failed'
  RETURNING id, idempotency_key`;
const RECORD = `UPDATE message_log SET status = r.value ->> 1, errcode = r.value ->> 2, errmsg = r.value ->> 3, updated_at = ?2
  FROM json_each(?1) AS r WHERE message_log.id = r.value ->> 0`;

/**
 * Sends a batch of queued messages, each at most once: one D1 statement claims their keys in
 * message_log (a message already sent is not claimed again), the claimed ones are sent
 * concurrently, and one D1 statement records every attempt's errcode. Two D1 round trips per
 * batch instead of two per message keeps D1's single writer free for counting.
 */
export async function deliverMessages(env: Env, wechat: WeChatService, messages: OutboundMessage[], now = Date.now()): Promise<Outcome[]> {
  const rows = messages.map((m) => [m.key, m.appid, m.message.touser, m.message.msgtype, summarize(m.message)]);
  const { results: claimed } = await env.DB.prepare(CLAIM).bind(JSON.stringify(rows), now).all<{ id: number; idempotency_key: string }>();
  // A key delivered twice in one batch is claimed once, and only its first copy is sent.
  const claims = new Map(claimed.map((c) => [c.idempotency_key, c.id]));
  const results = await Promise.all(
    messages.map(async (m) => {
      const id = claims.get(m.key);
      if (id === undefined) return { outcome: 'done' as Outcome };
      claims.delete(m.key);
      try {
        await wechat.sendCustomMessage(m.appid, m.message);
        return { outcome: 'done' as Outcome, record: [id, 'sent', 0, 'ok'] };
      } catch (e) {
        if (!(e instanceof WeChatApiError || e instanceof AppError)) console.error('send failed unexpectedly', m.key, e);
        const errcode = e instanceof WeChatApiError ? e.errcode : null;
        const errmsg = (e instanceof Error ? e.message : String(e)).slice(0, 500);
        const final = e instanceof WeChatApiError ? !isTransient(e) : e instanceof AppError;
        return { outcome: (final ? 'done' : 'retry') as Outcome, record: [id, 'failed', errcode, errmsg] };
      }
    }),
  );
  const records = results.flatMap((r) => (r.record ? [r.record] : []));
  if (records.length) await env.DB.prepare(RECORD).bind(JSON.stringify(records), Date.now()).run();
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
