import { sql } from 'drizzle-orm';
import { type Db, schema } from '../db/client';

/**
 * WeChat's customer-service window (WECHAT.md): after a fan's message, 5 sends within 48 h;
 * outside it 45015, over the count 45047. The worker keeps its own count so that it neither calls
 * WeChat for a send that must fail nor spends the last sends on notes a prize announcement needs.
 */
export const WINDOW_MS = 48 * 3600_000;
export const WINDOW_SENDS = 5;

/** A window as read from service_window. */
export interface ServiceWindow {
  openedAt: number;
  sent: number;
}

/** What the batch asks of one fan's window: a send that must leave `reserve` sends after it. */
export interface WindowRequest {
  appid: string;
  openId: string;
  /** Sends the window must still have after this one (prize announcements still ahead); 0: any room will do. */
  reserve: number;
}

export type WindowDecision = { send: true } | { send: false; why: string };

/** A window whose count the batch raised: written only if nobody changed it since it was read. */
export interface WindowUpdate {
  appid: string;
  openId: string;
  openedAt: number;
  from: number;
  to: number;
}

export const fanKey = (appid: string, openId: string) => `${appid}\n${openId}`;

const CLOSED = 'not sent: the fan has not written to the account within 48 h (WeChat would answer 45015)';
const SPENT = `not sent: the ${WINDOW_SENDS} sends the fan's last message allows are used (WeChat would answer 45047)`;
const KEPT = "not sent: the window's last sends are kept for the prizes still ahead";

/**
 * Decides, in order, which requests the known windows have room for. A fan without a known window
 * (they never wrote, or wrote before the worker kept windows) is sent to: WeChat decides, and a
 * refusal is remembered by `markSpent`.
 */
export function planWindows(
  requests: WindowRequest[],
  windows: Map<string, ServiceWindow>,
  now: number,
): { decisions: WindowDecision[]; updates: WindowUpdate[] } {
  const counts = new Map<string, { window: ServiceWindow; appid: string; openId: string; sent: number }>();
  const decisions = requests.map((r): WindowDecision => {
    const key = fanKey(r.appid, r.openId);
    const window = windows.get(key);
    if (!window) return { send: true };
    const c = counts.get(key) ?? { window, appid: r.appid, openId: r.openId, sent: window.sent };
    counts.set(key, c);
    if (now >= window.openedAt + WINDOW_MS) return { send: false, why: CLOSED };
    const left = WINDOW_SENDS - c.sent;
    if (left <= 0) return { send: false, why: SPENT };
    if (left <= r.reserve) return { send: false, why: KEPT };
    c.sent += 1;
    return { send: true };
  });
  const updates = [...counts.values()]
    .filter((c) => c.sent !== c.window.sent)
    .map((c) => ({ appid: c.appid, openId: c.openId, openedAt: c.window.openedAt, from: c.window.sent, to: c.sent }));
  return { decisions, updates };
}

// The windows of a batch's fans, read in one statement; counts are then raised by compare-and-set,
// so two consumers sending to the same fan at once cannot both spend its last send.
export const READ_WINDOWS = `SELECT w.appid, w.open_id, w.opened_at, w.sent FROM json_each(?1) AS f
  JOIN service_window AS w ON w.appid = f.value ->> 0 AND w.open_id = f.value ->> 1`;
export const RAISE_WINDOWS = `UPDATE service_window SET sent = u.value ->> 4 FROM json_each(?1) AS u
  WHERE service_window.appid = u.value ->> 0 AND service_window.open_id = u.value ->> 1
    AND service_window.opened_at = u.value ->> 2 AND service_window.sent = u.value ->> 3
  RETURNING service_window.appid, service_window.open_id`;
// WeChat refused (45015/45047): the window is spent, unless the fan wrote again meanwhile.
export const MARK_SPENT = `INSERT INTO service_window (appid, open_id, opened_at, sent)
  SELECT s.value ->> 0, s.value ->> 1, s.value ->> 2, ${WINDOW_SENDS} FROM json_each(?1) AS s WHERE true
  ON CONFLICT (appid, open_id) DO UPDATE SET sent = excluded.sent WHERE service_window.opened_at = excluded.opened_at`;

/**
 * A fan's message opens a new window at `at`, the message's CreateTime (WeChat's clock starts
 * there). Retries of a message never get here: messages are claimed once by MsgId first.
 */
export async function openServiceWindow(db: Db, appid: string, openId: string, at: number): Promise<void> {
  await db
    .insert(schema.serviceWindow)
    .values({ appid, openId, openedAt: at, sent: 0 })
    .onConflictDoUpdate({
      target: [schema.serviceWindow.appid, schema.serviceWindow.openId],
      set: { openedAt: sql`excluded.opened_at`, sent: 0 },
      setWhere: sql`excluded.opened_at >= ${schema.serviceWindow.openedAt}`,
    });
}
