import { describe, expect, it } from 'vitest';
import { type FanWindows, fanKey, planWindows, WHY_CLOSED, WHY_KEPT, WHY_SPENT, type WindowRequest } from '../../worker/messaging/window-plan';

const NOW = Date.UTC(2026, 11, 3, 12);
const fan = (over: Partial<WindowRequest> = {}): WindowRequest => ({ appid: 'wxA', openId: 'oF', reserve: 0, ...over });
const windows = (w: Partial<FanWindows>) => new Map([[fanKey('wxA', 'oF'), { message: { openedAt: 0, sent: 0 }, event: { openedAt: 0, sent: 0 }, ...w }]]);
const plan = (requests: WindowRequest[], w: Partial<FanWindows>) => planWindows(requests, windows(w), NOW);

describe('planWindows', () => {
  it('spends the window that closes first, then the other: 3 + 5 sends, and says why past them', () => {
    const both = { message: { openedAt: NOW - 1000, sent: 0 }, event: { openedAt: NOW - 1000, sent: 0 } };
    const { decisions, updates } = plan(
      Array.from({ length: 9 }, () => fan()),
      both,
    );
    expect(decisions.map((d) => (d.send ? d.slot?.kind : d.why))).toEqual([
      'event',
      'event',
      'event',
      'message',
      'message',
      'message',
      'message',
      'message',
      WHY_SPENT,
    ]);
    expect(updates).toEqual([
      { appid: 'wxA', openId: 'oF', before: both, after: { message: { openedAt: NOW - 1000, sent: 5 }, event: { openedAt: NOW - 1000, sent: 3 } } },
    ]);
  });

  it('a window past its time takes nothing: 45015 when neither is open', () => {
    expect(plan([fan()], { message: { openedAt: NOW - 48 * 3600_000, sent: 0 }, event: { openedAt: NOW - 60_000, sent: 0 } }).decisions).toEqual([
      { send: false, why: WHY_CLOSED },
    ]);
    expect(plan([fan()], {}).decisions).toEqual([{ send: false, why: WHY_CLOSED }]);
  });

  it('plain notes keep the message window’s last sends for the prizes ahead, but may spend the minute’s window', () => {
    const message = { openedAt: NOW - 1000, sent: 1 };
    expect(plan([fan({ reserve: 3 }), fan({ reserve: 3 }), fan()], { message }).decisions.map((d) => (d.send ? d.slot?.kind : d.why))).toEqual([
      'message',
      WHY_KEPT,
      'message',
    ]);
    const event = { openedAt: NOW - 1000, sent: 2 };
    expect(plan([fan({ reserve: 4 }), fan({ reserve: 4 })], { message, event }).decisions.map((d) => (d.send ? d.slot?.kind : d.why))).toEqual([
      'event',
      WHY_KEPT,
    ]);
  });

  it('a retry keeps the slot its first attempt took, without counting it again, while that window lasts', () => {
    const message = { openedAt: NOW - 1000, sent: 5 };
    const held = { kind: 'message' as const, at: NOW - 1000 };
    expect(plan([fan({ held })], { message })).toEqual({ decisions: [{ send: true, slot: held, held: true }], updates: [] });
    // The fan wrote again meanwhile: that slot went with the old window, and a new one is taken.
    const reopened = plan([fan({ held })], { message: { openedAt: NOW - 10, sent: 0 } });
    expect(reopened.decisions).toEqual([{ send: true, slot: { kind: 'message', at: NOW - 10 }, held: false }]);
  });

  it('a fan with no known window is left to WeChat', () => {
    expect(planWindows([fan()], new Map(), NOW)).toEqual({ decisions: [{ send: true, slot: null, held: false }], updates: [] });
  });
});
