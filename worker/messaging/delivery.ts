import type { Db } from '../db/client';
import type { Channel, MessageStatus } from '../db/schema';
import { AppError } from '../errors';
import type { WeChatService } from '../platform/wechat-service';
import { BUSY, TIMED_OUT, UNREACHABLE, WeChatApiError } from '../wechat/api';
import type { CustomMessage } from '../wechat/authorizer';
import { MAX_BUNDLE, type MessageBundle, type Notice, type Outbound, type Replied } from './outbox';
import { cachedReachSettings, keepReachSettings, type ReachSettings, reachSettingsQueries } from './reach-settings';
import { markSpent, READ_WINDOWS, raiseWindows, windowsOf } from './service-window';
import { type FanWindows, fanKey, planWindows, type Slot, type WindowDecision } from './window-plan';
import { type Looked, needsOf, type Rendered, renderWording, type Wording, wordingOf } from './wording';

/**
 * What sending needs: D1 (message_log, service_window, the activities' texts) and which shard it
 * is (fans' links name it), WeChat, the posters, and the keys for fans' links.
 */
export interface DeliveryDeps {
  db: Db;
  shard: string;
  wechat: WeChatService;
  posters: R2Bucket;
  config: { sessionSecret: string; publicBaseUrl: string };
}

/** What a queue batch needs: the same, over the shard of each item's account. */
export interface BatchDeps extends DeliveryDeps {
  forAccount(appid: string): Promise<DeliveryDeps>;
}

type Outcome = 'done' | 'retry';
/** An item the consumer sends (passive replies are only recorded). */
type Sendable = Exclude<Outbound, Replied>;

/** Answers worth another try later (WeChat busy, unreachable or late); everything else (45015, 45047, 43004…) is final. */
const isTransient = (e: unknown) => e instanceof WeChatApiError && [BUSY, UNREACHABLE, TIMED_OUT].includes(e.errcode);

/** A claimed attempt that makes no progress this long was lost with its consumer: the queue's redelivery takes it back. */
const STALE_SENDING_MS = 120_000;
const SUMMARY_MAX = 200;

// One statement each to record passive replies, to claim and to record a whole batch, over JSON
// rows (json_each): the consumer's cost stays one D1 round trip per step however many items a
// batch holds. A claim inserts the key, or takes back a key whose last attempt is to be retried
// (with the window slot it holds); a key being sent, sent or settled is not returned, so it is not
// sent again.
const RECORD_PASSIVE = `INSERT INTO message_log (idempotency_key, appid, open_id, activity_id, scene, channel, msg_type, summary, status, attempts)
  SELECT p.value ->> 0, p.value ->> 1, p.value ->> 2, p.value ->> 3, p.value ->> 4, 'passive', p.value ->> 5, p.value ->> 6, 'sent', 1
  FROM json_each(?1) AS p WHERE true ON CONFLICT (idempotency_key) DO NOTHING`;
const CLAIM = `INSERT INTO message_log (idempotency_key, appid, open_id, activity_id, scene, msg_type, status, attempts)
  SELECT m.value ->> 0, m.value ->> 1, m.value ->> 2, m.value ->> 3, m.value ->> 4, '', 'sending', 1 FROM json_each(?1) AS m WHERE true
  ON CONFLICT (idempotency_key) DO UPDATE SET attempts = attempts + 1, status = 'sending', updated_at = ?2
    WHERE status = 'retrying' OR (status = 'sending' AND updated_at < ?2 - ${STALE_SENDING_MS})
  RETURNING id, idempotency_key, slot, slot_at, unsure`;
const RECORD = `UPDATE message_log SET status = r.value ->> 1, channel = r.value ->> 2, msg_type = r.value ->> 3, errcode = r.value ->> 4,
    errmsg = r.value ->> 5, summary = r.value ->> 6, msgid = r.value ->> 7, slot = r.value ->> 8, slot_at = r.value ->> 9,
    unsure = r.value ->> 10, updated_at = ?2
  FROM json_each(?1) AS r WHERE message_log.id = r.value ->> 0`;
// A template's receipt that arrived before its msgid was recorded.
const APPLY_RECEIPTS = `UPDATE message_log SET status = r.status, errmsg = CASE WHEN r.status = 'delivered' THEN message_log.errmsg ELSE r.detail END,
    updated_at = ?2 FROM template_receipt AS r
  WHERE message_log.id IN (SELECT value FROM json_each(?1)) AND r.appid = message_log.appid AND r.msgid = message_log.msgid`;
// Other messages to the fan whose last attempt got no answer while holding a send of the same window.
const OTHER_UNSURE = `SELECT count(*) AS n FROM message_log WHERE appid = ?1 AND open_id = ?2 AND slot = ?3 AND slot_at = ?4 AND unsure = 1 AND id != ?5`;
// What notices' wordings use beyond their producer's variables: owners' nicknames, and their rank.
const NICKNAMES = `SELECT t.id, t.nick_name FROM json_each(?1) AS j JOIN take_part_in AS t ON t.id = j.value`;
const RANKS = `SELECT j.value ->> 0 AS activity_id, j.value ->> 1 AS number,
  (SELECT count(*) FROM take_part_in AS t WHERE t.activity_id = j.value ->> 0 AND t.part_in = 0 AND t.number > j.value ->> 1) + 1 AS rank
  FROM json_each(?1) AS j`;

type LogRecord = [
  id: number,
  status: MessageStatus,
  channel: Channel | null,
  msgType: string,
  errcode: number | null,
  errmsg: string,
  summary: string,
  msgid: string | null,
  slot: string | null,
  slotAt: number | null,
  unsure: 0 | 1,
];
type Settled = { outcome: Outcome; record: LogRecord; refused?: boolean; template?: boolean };

/** WeChat's answers that mean the fan's windows are closed or used up. */
const WINDOW_REFUSALS = new Set([45015, 45047]);
const RACED = '尚未发送：另一次投递同时改变了粉丝的消息窗口，稍后重试';
const LATE_DELIVERED = '已送达：上一次发送微信未及时应答，重试时微信答 45047（窗口已满），说明上一次已经送达';
const NO_ACTIVITY = '未发送：活动不存在';
const NO_POSTER = '未发送：海报图片不存在';

/** Why WeChat refused a template message, for the operator (and the worker's log). */
const TEMPLATE_REFUSALS: Record<number, string> = {
  40037: '模板 ID 无效（40037）：模板不属于这个公众号或已被删除，请在活动的通知设置里重新选择',
  43004: '粉丝已取消关注（43004），模板消息无法送达',
  45009: '公众号今天的模板消息已达上限（45009）',
  47003: '模板字段不符合要求（47003），请检查通知设置里的模板字段',
  48001: '公众号没有模板消息权限（48001）：只有认证服务号可以发送',
};

/** A claimed item: its log row, and the slot an earlier attempt holds (with whether that attempt got no answer). */
interface Claimed {
  id: number;
  item: Sendable;
  held: Slot | null;
  unsure: boolean;
}

/** How one claimed item goes out: its words, and the channel chosen for it. */
interface Plan {
  c: Claimed;
  rendered: Rendered | null;
  decision: WindowDecision;
}

const summaryOf = (s: string) => s.slice(0, SUMMARY_MAX);
const templateSummary = (t: NonNullable<Rendered['template']>) =>
  summaryOf(
    Object.values(t.data)
      .map((d) => d.value)
      .join(' / '),
  );

/**
 * Sends a batch of queued items, each at most once, through the cheapest channel that still
 * reaches the fan: a customer-service message while one of the fan's windows has room (plain
 * notes keeping its last sends for the must-arrive notices ahead), else the scene's template when
 * the operator bound one, else none, with why. Passive replies already given are only recorded.
 *
 * D1 round trips per batch: one records passive replies, claims the keys in message_log (an item
 * already sent is not claimed again), reads the fans' windows and the activities' texts this
 * isolate does not hold; one raises the windows' counts; one records every outcome (and the
 * windows WeChat refused). A notice whose wording uses a nickname or a rank adds one. A send that
 * fails on the way keeps its window slot for its retry (message_log remembers it).
 */
export async function deliverMessages(deps: DeliveryDeps, items: Outbound[], now = Date.now()): Promise<Outcome[]> {
  const d1 = deps.db.$client;
  const replied = items.filter((i): i is Replied => i.kind === 'replied');
  const sendable = items.filter((i): i is Sendable => i.kind !== 'replied');
  const activityIds = sendable.flatMap((i) => (i.kind === 'text' ? [] : [i.activityId]));
  const { hit: settings, missing } = cachedReachSettings(activityIds, now);
  const fans = [...new Map(sendable.map((i) => [fanKey(i.appid, i.openId), [i.appid, i.openId]])).values()];
  const reads = [
    ...(replied.length
      ? [
          d1
            .prepare(RECORD_PASSIVE)
            .bind(JSON.stringify(replied.map((r) => [r.key, r.appid, r.openId, r.activityId, r.scene, r.msgType, summaryOf(r.summary)]))),
        ]
      : []),
    ...(sendable.length
      ? [
          d1.prepare(CLAIM).bind(JSON.stringify(sendable.map((i) => [i.key, i.appid, i.openId, i.kind === 'text' ? null : i.activityId, sceneOf(i)])), now),
          d1.prepare(READ_WINDOWS).bind(JSON.stringify(fans)),
        ]
      : []),
    ...(missing.length ? reachSettingsQueries(d1, missing) : []),
  ];
  if (!reads.length) return [];
  const results = (await d1.batch<Record<string, string | number | null>>(reads)).slice(replied.length ? 1 : 0);
  if (!sendable.length) return items.map(() => 'done');
  const [claim, read, ...loaded] = results;
  if (missing.length) for (const [id, s] of keepReachSettings(missing, [loaded[0].results, loaded[1].results], now)) settings.set(id, s);

  // A key delivered twice in one batch is claimed once, and only its first copy is sent.
  const claims = new Map(claim.results.map((c) => [String(c.idempotency_key), c]));
  const claimed: Claimed[] = sendable.flatMap((item) => {
    const c = claims.get(item.key);
    claims.delete(item.key);
    if (!c) return [];
    const held = c.slot ? { kind: c.slot as Slot['kind'], at: Number(c.slot_at) } : null;
    return [{ id: Number(c.id), item, held, unsure: c.unsure === 1 }];
  });
  const rendered = await renderAll(deps, claimed, settings, now);
  const windows = new Map(read.results.map((w) => [fanKey(String(w.appid), String(w.open_id)), windowsOf(w)]));
  const plan = planWindows(
    claimed.map(({ item, held }) => ({ appid: item.appid, openId: item.openId, reserve: reserveOf(item), held })),
    windows,
    now,
  );
  const raced = await raise(d1, plan.updates);

  const settled = new Map<string, Settled>();
  const sends = new Map<string, Plan[]>();
  for (const [i, c] of claimed.entries()) {
    const decision = plan.decisions[i];
    const r = rendered.get(c.item.key) ?? null;
    const fan = fanKey(c.item.appid, c.item.openId);
    // Decided on a window that changed meanwhile (another delivery, or the fan wrote): decide again later.
    if (raced.has(fan) && !(decision.send && decision.held)) settled.set(c.item.key, { outcome: 'retry', record: record(c.id, 'retrying', null, r, RACED) });
    else if (c.item.kind !== 'text' && !settings.has(c.item.activityId))
      settled.set(c.item.key, { outcome: 'done', record: record(c.id, 'skipped', 'none', r, NO_ACTIVITY) });
    else if (!decision.send && !r?.template) settled.set(c.item.key, { outcome: 'done', record: record(c.id, 'skipped', 'none', r, decision.why) });
    else sends.set(fan, [...(sends.get(fan) ?? []), { c, rendered: r, decision }]);
  }
  await Promise.all(
    [...sends.values()].map(async (queue) => {
      // One fan's messages go in order; a retry whose last attempt got no answer goes last, so
      // WeChat's verdict on it says whether that attempt was delivered (see `sendCustom`).
      const ordered = [...queue.filter((p) => !p.c.unsure), ...queue.filter((p) => p.c.unsure)];
      for (const p of ordered) settled.set(p.c.item.key, await go(deps, d1, p));
    }),
  );
  const records = [...settled.values()].map((s) => s.record);
  const spent = new Map<string, { appid: string; openId: string; windows: FanWindows | undefined }>();
  for (const { item } of claimed) {
    const fan = fanKey(item.appid, item.openId);
    if (settled.get(item.key)?.refused) spent.set(fan, { appid: item.appid, openId: item.openId, windows: windows.get(fan) });
  }
  const templates = claimed.filter((c) => settled.get(c.item.key)?.template).map((c) => c.id);
  // Every item was claimed before (a redelivery): nothing to record.
  if (!records.length) return items.map(() => 'done');
  const at = Date.now();
  await d1.batch([
    d1.prepare(RECORD).bind(JSON.stringify(records), at),
    ...(spent.size ? [markSpent(d1, [...spent.values()])] : []),
    ...(templates.length ? [d1.prepare(APPLY_RECEIPTS).bind(JSON.stringify(templates), at)] : []),
  ]);
  return items.map((i) => settled.get(i.key)?.outcome ?? 'done');
}

/** Sends the fan's message window must keep after this item: none for what must arrive (it may take the last ones). */
const reserveOf = (i: Sendable) => (i.kind === 'text' || (i.kind === 'notice' && i.mustArrive) ? 0 : i.reserve);

const sceneOf = (i: Sendable) => (i.kind === 'notice' ? i.scene : i.kind === 'poster' ? 'poster' : null);

/** A log row's new state; `r` gives what the fan read (or would have), `template` when it went that way. */
function record(
  id: number,
  status: MessageStatus,
  channel: Channel | null,
  r: Rendered | null,
  errmsg: string,
  more: Partial<{ errcode: number | null; msgid: string; slot: Slot | null; unsure: boolean; msgType: string }> = {},
): LogRecord {
  const summary = channel === 'template' && r?.template ? templateSummary(r.template) : summaryOf(r?.text ?? '');
  const msgType = more.msgType ?? (channel === 'template' ? 'template' : 'text');
  return [
    id,
    status,
    channel,
    msgType,
    more.errcode ?? null,
    errmsg,
    summary,
    more.msgid ?? null,
    more.slot?.kind ?? null,
    more.slot?.at ?? null,
    more.unsure ? 1 : 0,
  ];
}

/** Renders the claimed notices (and the other items' words), looking up nicknames and ranks only where a wording uses them. */
async function renderAll(deps: DeliveryDeps, claimed: Claimed[], settings: Map<number, ReachSettings>, now: number): Promise<Map<string, Rendered>> {
  const out = new Map<string, Rendered>();
  const notices: { n: Notice; s: ReachSettings; w: Wording }[] = [];
  for (const { item } of claimed) {
    if (item.kind === 'text') out.set(item.key, { text: item.text, template: null });
    else if (item.kind === 'poster') out.set(item.key, { text: '专属海报图片', template: null });
    else {
      const s = settings.get(item.activityId);
      if (s) notices.push({ n: item, s, w: wordingOf(item, s) });
    }
  }
  const needs = notices.map((x) => needsOf(x.w));
  const nicknames = notices.filter((_, i) => needs[i].nickname).map((x) => x.n.rowId);
  const ranks = notices.filter((_, i) => needs[i].rank).map((x) => [x.n.activityId, Number(x.n.vars.number ?? 0)]);
  const d1 = deps.db.$client;
  const lookups = [
    ...(nicknames.length ? [d1.prepare(NICKNAMES).bind(JSON.stringify(nicknames))] : []),
    ...(ranks.length ? [d1.prepare(RANKS).bind(JSON.stringify(ranks))] : []),
  ];
  const found = lookups.length ? await d1.batch<Record<string, string | number | null>>(lookups) : [];
  const names = new Map((nicknames.length ? found[0].results : []).map((r) => [Number(r.id), r.nick_name === null ? null : String(r.nick_name)]));
  const rankRows = ranks.length ? found[found.length - 1].results : [];
  const rankOf = (activityId: number, number: number) => rankRows.find((r) => Number(r.activity_id) === activityId && Number(r.number) === number)?.rank;
  await Promise.all(
    notices.map(async ({ n, s, w }, i) => {
      const looked: Looked = {
        nickname: needs[i].nickname ? names.get(n.rowId) : undefined,
        rank: needs[i].rank ? Number(rankOf(n.activityId, Number(n.vars.number ?? 0))) : undefined,
      };
      out.set(n.key, await renderWording(deps, n, s, w, looked, now));
    }),
  );
  return out;
}

/** Raises the windows' counts; the fans whose window changed since it was read are returned. */
async function raise(d1: D1Database, updates: Parameters<typeof raiseWindows>[1]): Promise<Set<string>> {
  if (!updates.length) return new Set();
  const { results } = await raiseWindows(d1, updates).all<{ appid: string; open_id: string }>();
  const raised = new Set(results.map((r) => fanKey(r.appid, r.open_id)));
  return new Set(updates.map((u) => fanKey(u.appid, u.openId)).filter((fan) => !raised.has(fan)));
}

/** Sends one item through the channel its plan chose: customer service (falling back to the template when WeChat refuses), or the template. */
async function go(deps: DeliveryDeps, d1: D1Database, { c, rendered, decision }: Plan): Promise<Settled> {
  if (!decision.send) return sendTemplate(deps.wechat, c, rendered!, decision.why);
  const custom = await sendCustom(deps, d1, c, rendered, decision.slot, decision.held);
  if (!custom.refused || !rendered?.template) return custom;
  // WeChat's windows were closed or used up after all (a fan who never wrote, or sends the worker
  // did not make, such as the operator's staff's): the template goes instead.
  const template = await sendTemplate(deps.wechat, c, rendered, `客服消息被微信拒绝（${custom.record[4]}），改发模板消息`);
  return { ...template, refused: true };
}

/**
 * A customer-service send in its slot. A transient failure keeps the slot for the retry. When the
 * retry of an attempt that got no answer meets a full window (45047) and no other message to the
 * fan is in that doubt, the full window is that attempt's doing: it was delivered.
 */
async function sendCustom(
  deps: DeliveryDeps,
  d1: D1Database,
  { id, item, unsure }: Claimed,
  r: Rendered | null,
  slot: Slot | null,
  held: boolean,
): Promise<Settled> {
  const msgType = item.kind === 'poster' ? 'image' : 'text';
  const more = { slot, msgType };
  try {
    await deps.wechat.sendCustomMessage(item.appid, await customMessage(deps, item, r));
    return { outcome: 'done', record: record(id, 'sent', 'custom', r, 'ok', { ...more, errcode: 0 }) };
  } catch (e) {
    if (e instanceof MissingPoster) return { outcome: 'done', record: record(id, 'failed', 'custom', r, NO_POSTER, { msgType }) };
    const { errcode, errmsg } = failure(e);
    if (isTransient(e)) return { outcome: 'retry', record: record(id, 'retrying', 'custom', r, errmsg, { ...more, errcode, unsure: errcode === TIMED_OUT }) };
    if (errcode === 45047 && unsure && held && slot) {
      const others = await d1.prepare(OTHER_UNSURE).bind(item.appid, item.openId, slot.kind, slot.at, id).first<number>('n');
      if (others === 0) return { outcome: 'done', record: record(id, 'sent', 'custom', r, LATE_DELIVERED, { ...more, errcode }) };
    }
    return {
      outcome: 'done',
      record: record(id, 'failed', 'custom', r, errmsg, { errcode, msgType }),
      refused: errcode !== null && WINDOW_REFUSALS.has(errcode),
    };
  }
}

/** The poster's object went missing from R2: the image cannot be sent (final). */
class MissingPoster extends Error {}

async function customMessage(deps: DeliveryDeps, item: Sendable, r: Rendered | null): Promise<CustomMessage> {
  if (item.kind !== 'poster') return { touser: item.openId, msgtype: 'text', text: { content: r?.text ?? '' } };
  const obj = await deps.posters.get(item.poster);
  if (!obj) throw new MissingPoster();
  const mediaId = await deps.wechat.uploadImage(
    item.appid,
    new Uint8Array(await obj.arrayBuffer()),
    item.poster,
    obj.httpMetadata?.contentType ?? 'image/jpeg',
  );
  return { touser: item.openId, msgtype: 'image', image: { media_id: mediaId } };
}

/** A template send; `why` says why customer service was not used. Its refusals are final and named for the operator. */
async function sendTemplate(wechat: WeChatService, { id, item }: Claimed, r: Rendered, why: string): Promise<Settled> {
  const t = r.template!;
  try {
    const msgid = await wechat.sendTemplateMessage(item.appid, { touser: item.openId, template_id: t.template_id, url: t.url, data: t.data });
    return { outcome: 'done', record: record(id, 'sent', 'template', r, why, { errcode: 0, msgid }), template: true };
  } catch (e) {
    const { errcode, errmsg } = failure(e);
    if (isTransient(e)) return { outcome: 'retry', record: record(id, 'retrying', 'template', r, errmsg, { errcode }) };
    const named = errcode !== null ? TEMPLATE_REFUSALS[errcode] : undefined;
    console.warn(`template message to ${item.appid}/${item.openId} (${item.key}) refused: ${named ?? errmsg}`);
    return { outcome: 'done', record: record(id, 'failed', 'template', r, named ? `${named}（${errmsg}）` : errmsg, { errcode }) };
  }
}

function failure(e: unknown): { errcode: number | null; errmsg: string } {
  if (!(e instanceof WeChatApiError || e instanceof AppError)) console.error('send failed unexpectedly', e);
  return { errcode: e instanceof WeChatApiError ? e.errcode : null, errmsg: (e instanceof Error ? e.message : String(e)).slice(0, 500) };
}

/**
 * Queue consumer: delivers every bundle's items, MAX_BUNDLE at a time, each on its account's
 * shard. A bundle with an item worth another try (WeChat busy, unreachable or late) is retried
 * whole, with growing delays: its items already sent or settled are not claimed again, so only the
 * others go out.
 */
export async function deliverBatch(deps: BatchDeps, batch: MessageBatch<MessageBundle>): Promise<void> {
  const byShard = new Map<string, { shard: DeliveryDeps; items: { item: Outbound; bundle: number }[] }>();
  for (const [bundle, msg] of batch.messages.entries()) {
    for (const item of msg.body) {
      const shard = await deps.forAccount(item.appid);
      const group = byShard.get(shard.shard) ?? { shard, items: [] };
      group.items.push({ item, bundle });
      byShard.set(shard.shard, group);
    }
  }
  const retry = new Set<number>();
  for (const { shard, items } of byShard.values()) {
    for (let i = 0; i < items.length; i += MAX_BUNDLE) {
      const chunk = items.slice(i, i + MAX_BUNDLE);
      const outcomes = await deliverMessages(
        shard,
        chunk.map((c) => c.item),
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
