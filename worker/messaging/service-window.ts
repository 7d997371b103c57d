import type { Db } from '../db/client';
import { type FanWindows, WINDOWS, type WindowKind, type WindowUpdate } from './window-plan';

/**
 * Each fan's customer-service windows in D1 (service_window): opened by the fan's pushes, counted
 * by the queue consumer, so that it neither calls WeChat for a send that must fail nor spends the
 * last sends on notes a prize announcement needs. The decisions are window-plan.ts's.
 */

/** A row of READ_WINDOWS as the planner wants it. */
export const windowsOf = (w: Record<string, unknown>): FanWindows => ({
  message: { openedAt: Number(w.opened_at), sent: Number(w.sent) },
  event: { openedAt: Number(w.event_opened_at), sent: Number(w.event_sent) },
});

// The windows of a batch's fans, read in one statement; counts are then raised by compare-and-set,
// so two consumers sending to the same fan at once cannot both spend its last send.
export const READ_WINDOWS = `SELECT w.appid, w.open_id, w.opened_at, w.sent, w.event_opened_at, w.event_sent FROM json_each(?1) AS f
  JOIN service_window AS w ON w.appid = f.value ->> 0 AND w.open_id = f.value ->> 1`;
const RAISE_WINDOWS = `UPDATE service_window SET sent = u.value ->> 4, event_sent = u.value ->> 7 FROM json_each(?1) AS u
  WHERE service_window.appid = u.value ->> 0 AND service_window.open_id = u.value ->> 1
    AND service_window.opened_at = u.value ->> 2 AND service_window.sent = u.value ->> 3
    AND service_window.event_opened_at = u.value ->> 5 AND service_window.event_sent = u.value ->> 6
  RETURNING service_window.appid, service_window.open_id`;

/** The statement that raises the counts of `updates`; it returns the fans it raised. */
export function raiseWindows(d1: D1Database, updates: WindowUpdate[]): D1PreparedStatement {
  const rows = updates.map((u) => [
    u.appid,
    u.openId,
    u.before.message.openedAt,
    u.before.message.sent,
    u.after.message.sent,
    u.before.event.openedAt,
    u.before.event.sent,
    u.after.event.sent,
  ]);
  return d1.prepare(RAISE_WINDOWS).bind(JSON.stringify(rows));
}

// WeChat refused (45015/45047): both windows are spent, each unless the fan opened it again meanwhile.
const MARK_SPENT = `INSERT INTO service_window (appid, open_id, opened_at, sent, event_opened_at, event_sent)
  SELECT s.value ->> 0, s.value ->> 1, s.value ->> 2, ${WINDOWS.message.sends}, s.value ->> 3, ${WINDOWS.event.sends} FROM json_each(?1) AS s WHERE true
  ON CONFLICT (appid, open_id) DO UPDATE SET
    sent = CASE WHEN service_window.opened_at = excluded.opened_at THEN excluded.sent ELSE service_window.sent END,
    event_sent = CASE WHEN service_window.event_opened_at = excluded.event_opened_at THEN excluded.event_sent ELSE service_window.event_sent END`;

/** The statement that marks the windows WeChat refused as spent (each fan's windows as they were read; absent: none known). */
export function markSpent(d1: D1Database, fans: { appid: string; openId: string; windows: FanWindows | undefined }[]): D1PreparedStatement {
  const rows = fans.map((f) => [f.appid, f.openId, f.windows?.message.openedAt ?? 0, f.windows?.event.openedAt ?? 0]);
  return d1.prepare(MARK_SPENT).bind(JSON.stringify(rows));
}

// A fan's message opens a new window from its CreateTime (WeChat's clock starts there). Retries
// of a message never get here: messages are claimed once by MsgId first.
const OPEN_MESSAGE_WINDOW = `INSERT INTO service_window (appid, open_id, opened_at, sent) VALUES (?1, ?2, ?3, 0)
  ON CONFLICT (appid, open_id) DO UPDATE SET opened_at = excluded.opened_at, sent = 0 WHERE excluded.opened_at >= service_window.opened_at`;
// Events are not claimed (WeChat's retries of a follow reach the handlers again): a retry of the
// push that opened the minute opens nothing, so it does not give back the sends made in it.
const OPEN_EVENT_WINDOWS = `INSERT INTO service_window (appid, open_id, opened_at, sent, event_opened_at, event_sent, event_key)
  SELECT w.value ->> 0, w.value ->> 1, 0, 0, w.value ->> 2, 0, w.value ->> 3 FROM json_each(?1) AS w WHERE true
  ON CONFLICT (appid, open_id) DO UPDATE SET event_opened_at = excluded.event_opened_at, event_sent = 0, event_key = excluded.event_key
    WHERE excluded.event_opened_at > service_window.event_opened_at
      OR (excluded.event_opened_at = service_window.event_opened_at AND excluded.event_key IS NOT service_window.event_key)`;

/** A push that opens a window: its fan, its CreateTime (ms) and its dedup key. */
export interface WindowOpening {
  appid: string;
  openId: string;
  at: number;
  eventKey: string;
}

/** A fan's push opened a window: `message` for a message, `event` for a follow, scan or menu click. */
export async function openServiceWindow(db: Db, kind: WindowKind, push: WindowOpening): Promise<void> {
  await (kind === 'message' ? db.$client.prepare(OPEN_MESSAGE_WINDOW).bind(push.appid, push.openId, push.at) : openEventWindows(db.$client, [push])).run();
}

/** The statement that opens the minute's window of each fan who followed (for a batch with the follows' other writes). */
export function openEventWindows(d1: D1Database, pushes: WindowOpening[]): D1PreparedStatement {
  return d1.prepare(OPEN_EVENT_WINDOWS).bind(JSON.stringify(pushes.map((p) => [p.appid, p.openId, p.at, p.eventKey])));
}
