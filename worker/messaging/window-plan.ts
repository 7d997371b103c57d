/**
 * WeChat's customer-service windows (WECHAT.md), as plain data and one pure planner: which sends a
 * fan's windows have room for. Two separate allowances: a fan's message opens 5 sends within
 * 48 h, a follow, SCAN or menu click 3 sends within a minute; outside both WeChat answers 45015,
 * over both 45047. A send spends the open window with room that closes first (the sandbox spends
 * them the same way), so neither allowance is wasted while the other lasts.
 */

export const WINDOWS = {
  message: { ms: 48 * 3600_000, sends: 5 },
  event: { ms: 60_000, sends: 3 },
} as const;
export type WindowKind = keyof typeof WINDOWS;
const KINDS = Object.keys(WINDOWS) as WindowKind[];

/** One window as the worker knows it: when it opened (0: never) and how many of its sends are used. */
export interface Window {
  openedAt: number;
  sent: number;
}
export type FanWindows = Record<WindowKind, Window>;

/** A send's place in a window: which window, and that window's opening time. */
export interface Slot {
  kind: WindowKind;
  at: number;
}

/** What a message asks of its fan's windows. */
export interface WindowRequest {
  appid: string;
  openId: string;
  /** Sends the message window must still have after this one (prizes still ahead); 0: any room will do. */
  reserve: number;
  /** The slot an earlier attempt of this message took: its retry keeps it while that window lasts. */
  held?: Slot | null;
}

/**
 * `slot` null: the worker knows no window of this fan (they never acted since it kept windows),
 * so WeChat decides. `held`: the slot is the one an earlier attempt took (already counted).
 */
export type WindowDecision = { send: true; slot: Slot | null; held: boolean } | { send: false; why: string };

/** A fan's windows whose counts the batch raised: written only if nobody changed them since they were read. */
export interface WindowUpdate {
  appid: string;
  openId: string;
  before: FanWindows;
  after: FanWindows;
}

export const fanKey = (appid: string, openId: string) => `${appid}\n${openId}`;

/** Whether a window opened at `openedAt` still takes sends at `now`. */
export const isOpen = (kind: WindowKind, openedAt: number, now: number) => openedAt > 0 && now < openedAt + WINDOWS[kind].ms;

export const WHY_CLOSED = '未发送：粉丝 48 小时内没有给公众号发消息，1 分钟内也没有关注、扫码或点菜单（微信会返回 45015）';
export const WHY_SPENT = '未发送：粉丝最近一次互动允许的客服消息已用完（微信会返回 45047）';
export const WHY_KEPT = '未发送：客服消息窗口剩下的几条留给尚未达成的奖品通知';

/**
 * Decides, in order, which requests the known windows have room for. A plain note (reserve > 0)
 * may spend the minute's window freely (it closes before any prize ahead could use it) but leaves
 * the message window `reserve` sends; an announcement takes any send left.
 */
export function planWindows(
  requests: WindowRequest[],
  windows: Map<string, FanWindows>,
  now: number,
): { decisions: WindowDecision[]; updates: WindowUpdate[] } {
  const counts = new Map<string, { appid: string; openId: string; before: FanWindows; sent: Record<WindowKind, number> }>();
  const decisions = requests.map((r): WindowDecision => {
    const key = fanKey(r.appid, r.openId);
    const known = windows.get(key);
    if (!known) return { send: true, slot: null, held: false };
    const c = counts.get(key) ?? { appid: r.appid, openId: r.openId, before: known, sent: { message: known.message.sent, event: known.event.sent } };
    counts.set(key, c);
    const { held } = r;
    if (held && known[held.kind].openedAt === held.at && isOpen(held.kind, held.at, now)) return { send: true, slot: held, held: true };
    const open = KINDS.filter((k) => isOpen(k, known[k].openedAt, now)).sort((a, b) => known[a].openedAt + WINDOWS[a].ms - (known[b].openedAt + WINDOWS[b].ms));
    if (!open.length) return { send: false, why: WHY_CLOSED };
    const left = (k: WindowKind) => WINDOWS[k].sends - c.sent[k];
    const withRoom = open.filter((k) => left(k) > 0);
    if (!withRoom.length) return { send: false, why: WHY_SPENT };
    const kind = withRoom.find((k) => k === 'event' || left(k) > r.reserve);
    if (!kind) return { send: false, why: WHY_KEPT };
    c.sent[kind] += 1;
    return { send: true, slot: { kind, at: known[kind].openedAt }, held: false };
  });
  const updates = [...counts.values()]
    .filter((c) => KINDS.some((k) => c.sent[k] !== c.before[k].sent))
    .map((c) => ({
      appid: c.appid,
      openId: c.openId,
      before: c.before,
      after: { message: { ...c.before.message, sent: c.sent.message }, event: { ...c.before.event, sent: c.sent.event } },
    }));
  return { decisions, updates };
}
