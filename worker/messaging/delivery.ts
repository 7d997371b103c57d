import type { Db } from '../db/client';
import { AppError } from '../errors';
import type { WeChatService } from '../platform/wechat-service';
import { BUSY, UNREACHABLE, WeChatApiError } from '../wechat/api';
import type { CustomMessage } from '../wechat/authorizer';
import { MAX_BUNDLE, type MessageBundle, type OutboundMessage } from './outbox';
import { fanKey, MARK_SPENT, planWindows, RAISE_WINDOWS, READ_WINDOWS, type WindowUpdate } from './service-window';

/** What sending needs: D1 (message_log, service_window) and WeChat. */
export interface DeliveryDeps {
  db: Db;
  wechat: WeChatService;
}

/** What a queue batch needs: the same, over the shard of each message's account. */
export interface BatchDeps extends DeliveryDeps {
  forAccount(appid: string): Promise<DeliveryDeps>;
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

type LogRecord = [id: number, status: 'sent' | 'failed' | 'skipped', errcode: number | null, errmsg: string];
type Result = { outcome: Outcome; record?: LogRecord; refused?: boolean };

/** WeChat's answers that mean the fan's window is closed or used up. */
const WINDOW_REFUSALS = new Set([45015, 45047]);
const RACED = "not sent yet: another delivery changed the fan's window meanwhile; retried";

/**
 * Sends a batch of queued messages, each at most once and only where the fan's customer-service
 * window has room: one D1 round trip claims their keys in message_log (a message already sent is
 * not claimed again) and reads the fans' windows, one raises the windows' counts, the claimed
 * messages with room are sent concurrently, and one records every outcome (and the windows WeChat
 * refused). A handful of D1 round trips per batch instead of per message keeps D1's single writer
 * free for counting.
 */
export async function deliverMessages({ db, wechat }: DeliveryDeps, messages: OutboundMessage[], now = Date.now()): Promise<Outcome[]> {
  const d1 = db.$client;
  const rows = messages.map((m) => [m.key, m.appid, m.message.touser, m.message.msgtype, summarize(m.message)]);
  const fans = [...new Map(messages.map((m) => [fanKey(m.appid, m.message.touser), [m.appid, m.message.touser]])).values()];
  const [claim, read] = await d1.batch<Record<string, string | number>>([
    d1.prepare(CLAIM).bind(JSON.stringify(rows), now),
    d1.prepare(READ_WINDOWS).bind(JSON.stringify(fans)),
  ]);
  // A key delivered twice in one batch is claimed once, and only its first copy is sent.
  const claims = new Map(claim.results.map((c) => [String(c.idempotency_key), Number(c.id)]));
  const claimed = messages.flatMap((m) => {
    const id = claims.get(m.key);
    claims.delete(m.key);
    return id === undefined ? [] : [{ id, m }];
  });
  const windows = new Map(read.results.map((w) => [fanKey(String(w.appid), String(w.open_id)), { openedAt: Number(w.opened_at), sent: Number(w.sent) }]));
  const plan = planWindows(
    claimed.map(({ m }) => ({ appid: m.appid, openId: m.message.touser, reserve: m.reserve ?? 0 })),
    windows,
    now,
  );
  const raced = await raiseWindows(d1, plan.updates);

  const results = new Map<string, Result>();
  await Promise.all(
    claimed.map(async ({ id, m }, i) => {
      const decision = plan.decisions[i];
      const fan = fanKey(m.appid, m.message.touser);
      // Decided on a window that changed meanwhile (another delivery, or the fan wrote): decide again later.
      if (raced.has(fan)) return results.set(m.key, { outcome: 'retry', record: [id, 'failed', null, RACED] });
      if (!decision.send) return results.set(m.key, { outcome: 'done', record: [id, 'skipped', null, decision.why] });
      results.set(m.key, await send(wechat, id, m));
    }),
  );
  const records = [...results.values()].flatMap((r) => (r.record ? [r.record] : []));
  const spent = new Map<string, unknown[]>();
  for (const { m } of claimed) {
    const fan = fanKey(m.appid, m.message.touser);
    if (results.get(m.key)?.refused) spent.set(fan, [m.appid, m.message.touser, windows.get(fan)?.openedAt ?? 0]);
  }
  const writes = [
    ...(records.length ? [d1.prepare(RECORD).bind(JSON.stringify(records), Date.now())] : []),
    ...(spent.size ? [d1.prepare(MARK_SPENT).bind(JSON.stringify([...spent.values()]))] : []),
  ];
  if (writes.length) await d1.batch(writes);
  return messages.map((m) => results.get(m.key)?.outcome ?? 'done');
}

/** Raises the windows' counts; the fans whose window changed since it was read are returned. */
async function raiseWindows(d1: D1Database, updates: WindowUpdate[]): Promise<Set<string>> {
  if (!updates.length) return new Set();
  const rows = updates.map((u) => [u.appid, u.openId, u.openedAt, u.from, u.to]);
  const { results } = await d1.prepare(RAISE_WINDOWS).bind(JSON.stringify(rows)).all<{ appid: string; open_id: string }>();
  const raised = new Set(results.map((r) => fanKey(r.appid, r.open_id)));
  return new Set(updates.map((u) => fanKey(u.appid, u.openId)).filter((fan) => !raised.has(fan)));
}

async function send(wechat: WeChatService, id: number, m: OutboundMessage): Promise<Result> {
  try {
    await wechat.sendCustomMessage(m.appid, m.message);
    return { outcome: 'done', record: [id, 'sent', 0, 'ok'] };
  } catch (e) {
    if (!(e instanceof WeChatApiError || e instanceof AppError)) console.error('send failed unexpectedly', m.key, e);
    const errcode = e instanceof WeChatApiError ? e.errcode : null;
    const errmsg = (e instanceof Error ? e.message : String(e)).slice(0, 500);
    const final = e instanceof WeChatApiError ? !isTransient(e) : e instanceof AppError;
    return { outcome: final ? 'done' : 'retry', record: [id, 'failed', errcode, errmsg], refused: errcode !== null && WINDOW_REFUSALS.has(errcode) };
  }
}

/**
 * Queue consumer: sends every bundle's messages, MAX_BUNDLE at a time, each on its account's
 * shard. A bundle with a message worth another try (WeChat busy or unreachable) is retried whole,
 * with growing delays: its messages already sent or settled are not claimed again, so only the
 * others go out.
 */
export async function deliverBatch(deps: BatchDeps, batch: MessageBatch<MessageBundle>): Promise<void> {
  const byShard = new Map<Db, { shard: DeliveryDeps; items: { m: OutboundMessage; bundle: number }[] }>();
  for (const [bundle, msg] of batch.messages.entries()) {
    for (const m of msg.body) {
      const shard = await deps.forAccount(m.appid);
      const group = byShard.get(shard.db) ?? { shard, items: [] };
      group.items.push({ m, bundle });
      byShard.set(shard.db, group);
    }
  }
  const retry = new Set<number>();
  for (const { shard, items } of byShard.values()) {
    for (let i = 0; i < items.length; i += MAX_BUNDLE) {
      const chunk = items.slice(i, i + MAX_BUNDLE);
      const outcomes = await deliverMessages(
        shard,
        chunk.map((c) => c.m),
      );
      chunk.forEach((c, k) => {
        if (outcomes[k] === 'retry') retry.add(c.bundle);
      });
    }
  }
  batch.messages.forEach((msg, bundle) => {
    if (retry.has(bundle)) msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    else msg.ack();
  });
}
