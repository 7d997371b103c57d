import { describe, expect, it } from 'vitest';
import { burstSince, endOfStay, type FairPlayRules, gateAssist, releaseHeld } from '../../worker/campaign/counter/fair-play';
import type { Participant } from '../../worker/campaign/counter/rules';
import { approvedNote, helperWaitingReply, waitingNote } from '../../worker/campaign/prize-notices';

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 11, 3, 12);
const off: FairPlayRules = { burstCount: null, burstSeconds: null, stayHours: null };
const burst: FairPlayRules = { ...off, burstCount: 5, burstSeconds: 60 };
const stay: FairPlayRules = { ...off, stayHours: 24 };
const owner: Participant = { rowId: 11, openId: 'oOwner', accountId: 7, number: 4, taskProgress: 1, level: 1 };
const tiers = [
  { level: 1, number: 3, good: '贴纸', stock: null },
  { level: 2, number: 10, good: '杯子', stock: null },
];

describe('gateAssist', () => {
  it('with the rules off, every assist counts now', () => {
    expect(burstSince(off, NOW)).toBeNull();
    expect(gateAssist(off, { at: NOW, recent: 1000, review: null })).toEqual({ kind: 'count' });
  });

  it('burst: N assists in the window count, the one after them is held and flags the poster', () => {
    expect(burstSince(burst, NOW)).toBe(NOW - 60_000);
    expect(gateAssist(burst, { at: NOW, recent: 4, review: null })).toEqual({ kind: 'count' });
    expect(gateAssist(burst, { at: NOW, recent: 5, review: null })).toEqual({ kind: 'hold', flag: true });
  });

  it('a poster under review holds every assist; an approved one is trusted; a voided one is judged afresh', () => {
    expect(gateAssist(off, { at: NOW, recent: 0, review: 'flagged' })).toEqual({ kind: 'hold', flag: false });
    expect(gateAssist(burst, { at: NOW, recent: 500, review: 'approved' })).toEqual({ kind: 'count' });
    expect(gateAssist(burst, { at: NOW, recent: 5, review: 'voided' })).toEqual({ kind: 'hold', flag: true });
  });

  it('stay period: an accepted assist waits H hours', () => {
    expect(gateAssist(stay, { at: NOW, recent: 0, review: null })).toEqual({ kind: 'wait', dueAt: NOW + 24 * HOUR });
    expect(gateAssist({ ...stay, ...burst, stayHours: 24 }, { at: NOW, recent: 5, review: null })).toEqual({ kind: 'hold', flag: true });
  });
});

describe('endOfStay', () => {
  it('counts, holds while the poster is under review, drops what was barred meanwhile', () => {
    expect(endOfStay({ deleted: false, barred: false, review: null })).toBe('count');
    expect(endOfStay({ deleted: false, barred: false, review: 'approved' })).toBe('count');
    expect(endOfStay({ deleted: false, barred: false, review: 'flagged' })).toBe('hold');
    expect(endOfStay({ deleted: false, barred: true, review: null })).toBe('drop');
    expect(endOfStay({ deleted: true, barred: false, review: 'flagged' })).toBe('drop');
  });
});

describe('releaseHeld', () => {
  const held = [
    { accountId: 7, openId: 'a', at: NOW - 30 * HOUR, leftAt: null },
    { accountId: 7, openId: 'b', at: NOW - 2 * HOUR, leftAt: null },
    { accountId: 7, openId: 'c', at: NOW - 30 * HOUR, leftAt: NOW - 1 * HOUR },
  ];
  it('keeps the order; an assist whose helper has left is dropped', () => {
    expect(releaseHeld(off, held, NOW).map((r) => [r.assist.openId, r.gate.kind])).toEqual([
      ['a', 'count'],
      ['b', 'count'],
      ['c', 'drop'],
    ]);
  });
  it('with a stay period, a recent assist waits out what is left of it', () => {
    expect(releaseHeld(stay, held, NOW).map((r) => r.gate)).toEqual([{ kind: 'count' }, { kind: 'wait', dueAt: NOW + 22 * HOUR }, { kind: 'drop' }]);
  });
});

describe('notes', () => {
  it('a waiting assist tells how many wait and keeps sends for the prizes ahead', () => {
    expect(waitingNote(tiers, owner, 24, 3)).toMatchObject({
      scene: 'progress',
      mustArrive: false,
      reserve: 1,
      text: expect.stringContaining('当前 3 人待确认'),
    });
  });
  it('an approval says how many counted and what is next, and must arrive', () => {
    const note = approvedNote(tiers, 3, { ...owner, number: 7 });
    expect(note).toMatchObject({ mustArrive: true, reserve: 0 });
    expect(note.text).toContain('3 位好友的助力已计入，当前 7 位好友助力，再邀请 3 人可得第二档【杯子】');
  });
  it('the helper waiting for their stay is thanked and told when it counts', () => {
    expect(helperWaitingReply('助力成功！', 24)).toBe('助力成功！（保持关注满 24 小时后助力生效）');
  });
});
