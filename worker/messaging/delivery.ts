import type { Db } from '../db/client';
import { AppError } from '../errors';
import type { WeChatService } from '../platform/wechat-service';
import { BUSY, TIMED_OUT, UNREACHABLE, WeChatApiError } from '../wechat/api';
import type { CustomMessage } from '../wechat/authorizer';
import { MAX_BUNDLE, type MessageBundle, type OutboundMessage } from './outbox';
import { markSpent, READ_WINDOWS, raiseWindows, windowsOf } from './service-window';
import { type FanWindows, fanKey, planWindows, type Slot } from './window-plan';

/** What sending needs: D1 (message_log, service_window) and WeChat. */
export interface DeliveryDeps {
  db: Db;
  wechat: WeChatService;
}

const summarize = (m: CustomMessage) =>
  (m.msgtype === 'text' ? m.text.content : m.msgtype === 'news' ? m.news.articles[0].title : m.image.media_id).slice(0, 200);

/** Answers worth another try later (WeChat busy, unreachable or late); everything else (45015, 45047, 43004…) is final. */
const isTransient = (e: unknown) => e instanceof WeChatApiError && [BUSY, UNREACHABLE, TIMED_OUT].includes(e.errcode);

type Outcome = 'done' | 'retry';

/** A claimed attempt that makes no progress this long was lost with its consumer: the queue's redelivery takes it back. */
const STALE_SENDING_MS = 120_000;

// One statement each to claim and to record a whole batch, over JSON rows (json_each): the
// consumer's cost stays one D1 round trip per step however many messages a batch holds. A claim
// inserts the key, or takes back a key whose last attempt is to be retried (with the window slot
// it holds); a key being sent, sent or settled is not returned, so it is not sent again.
const CLAIM = `INSERT INTO message_log (idempotency_key, appid, open_id, msg_type, summary, status, attempts)
  SELECT m.value ->> 0, m.value ->> 1, m.value ->> 2, m.value ->> 3, m.value ->> 4, 'sending', 1 FROM json_each(?1) AS m WHERE true
  ON CONFLICT (idempotency_key) DO UPDATE SET attempts = attempts + 1, status = 'sending', updated_at = ?2
    WHERE status = 'retrying' OR (status = 'sending' AND updated_at < ?2 - ${STALE_SENDING_MS})
  RETURNING id, idempotency_key, slot, slot_at, unsure`;
const RECORD = `UPDATE message_log SET status = r.value ->> 1, errcode = r.value ->> 2, errmsg = r.value ->> 3,
    slot = r.value ->> 4, slot_at = r.value ->> 5, unsure = r.value ->> 6, updated_at = ?2
  FROM json_each(?1) AS r WHERE message_log.id = r.value ->> 0`;
// Other messages to the fan whose last attempt got no answer while holding a send of the same window.
const OTHER_UNSURE = `SELECT count(*) AS n FROM message_log WHERE appid = ?1 AND open_id = ?2 AND slot = ?3 AND slot_at = ?4 AND unsure = 1 AND id != ?5`;

type Status = 'sent' | 'retrying' | 'failed' | 'skipped';
type LogRecord = [id: number, status: Status, errcode: number | null, errmsg: string, slot: string | null, slotAt: number | null, unsure: 0 | 1];
type Result = { outcome: Outcome; record: LogRecord; refused?: boolean };

/** WeChat's answers that mean the fan's windows are closed or used up. */
const WINDOW_REFUSALS = new Set([45015, 45047]);
const RACED = '尚未发送：另一次投递同时改变了粉丝的消息窗口，稍后重试';
const LATE_DELIVERED = '已送达：上一次发送微信未及时应答，重试时微信答 45047（窗口已满），说明上一次已经送达';

/** A claimed message: its log row, and the slot an earlier attempt holds (with whether that attempt got no answer). */
interface Claimed {
  id: number;
  m: OutboundMessage;
  held: Slot | null;
  unsure: boolean;
}

/**
 * Sends a batch of queued messages, each at most once and only where the fan's customer-service
 * windows have room: one D1 round trip claims their keys in message_log (a message already sent
 * is not claimed again) and reads the fans' windows, one raises the windows' counts, the claimed
 * messages with room are sent (one fan's in order, different fans' at once), and one records
 * every outcome (and the windows WeChat refused). A handful of D1 round trips per batch instead of
 * per message keeps D1's single writer free for counting.
 *
 * A send that fails on the way keeps its window slot for its retry (message_log remembers it), so
 * it is neither skipped for lack of room it already paid for nor counted twice.
 */
export async function deliverMessages({ db, wechat }: DeliveryDeps, messages: OutboundMessage[], now = Date.now()): Promise<Outcome[]> {
  const d1 = db.$client;
  const rows = messages.map((m) => [m.key, m.appid, m.message.touser, m.message.msgtype, summarize(m.message)]);
  const fans = [...new Map(messages.map((m) => [fanKey(m.appid, m.message.touser), [m.appid, m.message.touser]])).values()];
  const [claim, read] = await d1.batch<Record<string, string | number | null>>([
    d1.prepare(CLAIM).bind(JSON.stringify(rows), now),
    d1.prepare(READ_WINDOWS).bind(JSON.stringify(fans)),
  ]);
  // A key delivered twice in one batch is claimed once, and only its first copy is sent.
  const claims = new Map(claim.results.map((c) => [String(c.idempotency_key), c]));
  const claimed: Claimed[] = messages.flatMap((m) => {
    const c = claims.get(m.key);
    claims.delete(m.key);
    if (!c) return [];
    const held = c.slot ? { kind: c.slot as Slot['kind'], at: Number(c.slot_at) } : null;
    return [{ id: Number(c.id), m, held, unsure: c.unsure === 1 }];
  });
  const windows = new Map(read.results.map((w) => [fanKey(String(w.appid), String(w.open_id)), windowsOf(w)]));
  const plan = planWindows(
    claimed.map(({ m, held }) => ({ appid: m.appid, openId: m.message.touser, reserve: m.reserve ?? 0, held })),
    windows,
    now,
  );
  const raced = await raise(d1, plan.updates);

  const results = new Map<string, Result>();
  const sends = new Map<string, { c: Claimed; slot: Slot | null; held: boolean }[]>();
  for (const [i, c] of claimed.entries()) {
    const decision = plan.decisions[i];
    const fan = fanKey(c.m.appid, c.m.message.touser);
    // Decided on a window that changed meanwhile (another delivery, or the fan wrote): decide again later.
    if (raced.has(fan) && !(decision.send && decision.held)) results.set(c.m.key, { outcome: 'retry', record: [c.id, 'retrying', null, RACED, null, null, 0] });
    else if (!decision.send) results.set(c.m.key, { outcome: 'done', record: [c.id, 'skipped', null, decision.why, null, null, 0] });
    else sends.set(fan, [...(sends.get(fan) ?? []), { c, slot: decision.slot, held: decision.held }]);
  }
  await Promise.all(
    [...sends.values()].map(async (queue) => {
      // One fan's messages go in order; a retry whose last attempt got no answer goes last, so
      // WeChat's verdict on it says whether that attempt was delivered (see `send`).
      const ordered = [...queue.filter((s) => !s.c.unsure), ...queue.filter((s) => s.c.unsure)];
      for (const { c, slot, held } of ordered) results.set(c.m.key, await send({ d1, wechat }, c, slot, held));
    }),
  );
  const records = [...results.values()].map((r) => r.record);
  const spent = new Map<string, { appid: string; openId: string; windows: FanWindows | undefined }>();
  for (const { m } of claimed) {
    const fan = fanKey(m.appid, m.message.touser);
    if (results.get(m.key)?.refused) spent.set(fan, { appid: m.appid, openId: m.message.touser, windows: windows.get(fan) });
  }
  const writes = [
    ...(records.length ? [d1.prepare(RECORD).bind(JSON.stringify(records), Date.now())] : []),
    ...(spent.size ? [markSpent(d1, [...spent.values()])] : []),
  ];
  if (writes.length) await d1.batch(writes);
  return messages.map((m) => results.get(m.key)?.outcome ?? 'done');
}

/** Raises the windows' counts; the fans whose window changed since it was read are returned. */
async function raise(d1: D1Database, updates: Parameters<typeof raiseWindows>[1]): Promise<Set<string>> {
  if (!updates.length) return new Set();
  const { results } = await raiseWindows(d1, updates).all<{ appid: string; open_id: string }>();
  const raised = new Set(results.map((r) => fanKey(r.appid, r.open_id)));
  return new Set(updates.map((u) => fanKey(u.appid, u.openId)).filter((fan) => !raised.has(fan)));
}

/**
 * Sends one message in its slot. A transient failure keeps the slot for the retry. When the
 * retry of an attempt that got no answer meets a full window (45047) and no other message to
 * the fan is in that doubt, the full window is that attempt's doing: it was delivered.
 */
async function send({ d1, wechat }: { d1: D1Database; wechat: WeChatService }, { id, m, unsure }: Claimed, slot: Slot | null, held: boolean): Promise<Result> {
  const at = (s: Slot | null) => [s?.kind ?? null, s?.at ?? null] as const;
  try {
    await wechat.sendCustomMessage(m.appid, m.message);
    return { outcome: 'done', record: [id, 'sent', 0, 'ok', ...at(slot), 0] };
  } catch (e) {
    if (!(e instanceof WeChatApiError || e instanceof AppError)) console.error('send failed unexpectedly', m.key, e);
    const errcode = e instanceof WeChatApiError ? e.errcode : null;
    const errmsg = (e instanceof Error ? e.message : String(e)).slice(0, 500);
    if (isTransient(e)) return { outcome: 'retry', record: [id, 'retrying', errcode, errmsg, ...at(slot), errcode === TIMED_OUT ? 1 : 0] };
    if (errcode === 45047 && unsure && held && slot) {
      const others = await d1.prepare(OTHER_UNSURE).bind(m.appid, m.message.touser, slot.kind, slot.at, id).first<number>('n');
      if (others === 0) return { outcome: 'done', record: [id, 'sent', errcode, LATE_DELIVERED, ...at(slot), 0] };
    }
    return { outcome: 'done', record: [id, 'failed', errcode, errmsg, null, null, 0], refused: errcode !== null && WINDOW_REFUSALS.has(errcode) };
  }
}

/**
 * Queue consumer: sends every bundle's messages, MAX_BUNDLE at a time. A bundle with a message
 * worth another try (WeChat busy, unreachable or late) is retried whole, with growing delays: its
 * messages already sent or settled are not claimed again, so only the others go out.
 */
export async function deliverBatch(deps: DeliveryDeps, batch: MessageBatch<MessageBundle>): Promise<void> {
  const all = batch.messages.flatMap((msg, bundle) => msg.body.map((m) => ({ m, bundle })));
  const retry = new Set<number>();
  for (let i = 0; i < all.length; i += MAX_BUNDLE) {
    const chunk = all.slice(i, i + MAX_BUNDLE);
    const outcomes = await deliverMessages(
      deps,
      chunk.map((c) => c.m),
    );
    chunk.forEach((c, k) => {
      if (outcomes[k] === 'retry') retry.add(c.bundle);
    });
  }
  batch.messages.forEach((msg, bundle) => {
    if (retry.has(bundle)) msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    else msg.ack();
  });
}
