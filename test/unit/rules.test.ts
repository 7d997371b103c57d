import { describe, expect, it } from 'vitest';
import { inStock, type PrizeTier } from '../../worker/campaign/counter/prizes';
import {
  type AssistFacts,
  assistNote,
  type CounterSettings,
  claimTiers,
  deductNote,
  isRunning,
  judgeAssist,
  judgeUnfollow,
  type Participant,
} from '../../worker/campaign/counter/rules';

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 11, 3, 12);
const tiers: PrizeTier[] = [
  { level: 1, number: 3, good: '优惠券', stock: null, kind: 'onsite' },
  { level: 2, number: 10, good: '保温杯', stock: 2, kind: 'shipping' },
  { level: 3, number: 30, good: '蓝牙耳机', stock: 0, kind: 'shipping' },
];
const settings: CounterSettings = { startTime: NOW - HOUR, endTime: NOW + HOUR, protect: true, deduct: true, deleted: false, accounts: new Set([7]), tiers };
const owner: Participant = { rowId: 11, openId: 'oOwner', accountId: 7, number: 2, taskProgress: 0, level: 1 };
const facts = (over: Partial<AssistFacts> = {}): AssistFacts => ({
  accountId: 7,
  helperOpenId: 'oHelper',
  at: NOW,
  owner,
  newToAccount: true,
  ownerBlack: false,
  helperBlack: false,
  helpedBefore: false,
  ...over,
});

describe('judgeAssist', () => {
  it('counts a new follower: the owner gains one and reaches the tier the count meets', () => {
    expect(judgeAssist(settings, facts())).toEqual({ status: 'counted', number: 3, tier: 1 });
  });

  it('never lowers task_progress: a deducted owner who climbs back keeps the tier reached', () => {
    expect(judgeAssist(settings, facts({ owner: { ...owner, number: 0, taskProgress: 2 } }))).toEqual({ status: 'counted', number: 1, tier: 2 });
  });

  it('refuses in the order the product defines, each with its reason', () => {
    const refused = (f: Partial<AssistFacts>, s: Partial<CounterSettings> = {}) => judgeAssist({ ...settings, ...s }, facts(f));
    expect(refused({ owner: undefined })).toEqual({ status: 'refused', reason: 'unknown_owner' });
    expect(refused({ owner: { ...owner, accountId: 8 } })).toEqual({ status: 'refused', reason: 'unknown_owner' });
    expect(refused({}, { deleted: true })).toEqual({ status: 'refused', reason: 'not_running' });
    expect(refused({ at: NOW + HOUR })).toEqual({ status: 'refused', reason: 'not_running' });
    expect(refused({ helperOpenId: 'oOwner' })).toEqual({ status: 'refused', reason: 'self' });
    expect(refused({ ownerBlack: true })).toEqual({ status: 'refused', reason: 'blacklisted' });
    expect(refused({ helperBlack: true })).toEqual({ status: 'refused', reason: 'blacklisted' });
    expect(refused({ newToAccount: false })).toEqual({ status: 'refused', reason: 'not_new' });
    expect(refused({ helpedBefore: true })).toEqual({ status: 'refused', reason: 'already' });
  });

  it('拉新保护 off: a fan seen before counts, once per activity', () => {
    const off = { ...settings, protect: false };
    expect(judgeAssist(off, facts({ newToAccount: false }))).toMatchObject({ status: 'counted' });
    expect(judgeAssist(off, facts({ newToAccount: false, helpedBefore: true }))).toEqual({ status: 'refused', reason: 'already' });
  });
});

describe('isRunning', () => {
  it('covers [start, end) on the activity’s own accounts only', () => {
    expect(isRunning(settings, 7, NOW - HOUR)).toBe(true);
    expect(isRunning(settings, 7, NOW + HOUR)).toBe(false);
    expect(isRunning(settings, 7, NOW - HOUR - 1)).toBe(false);
    expect(isRunning(settings, 8, NOW)).toBe(false);
  });
});

describe('claimTiers', () => {
  it('claims each tier passed once, in stock while units are left', () => {
    const claimed = new Map([[2, 1]]);
    const available = (t: PrizeTier) => inStock(t, { taken: claimed.get(t.level) ?? 0, codes: 0 });
    expect(claimTiers(tiers, 0, 3, available)).toEqual([
      { tier: tiers[0], inStock: true },
      { tier: tiers[1], inStock: true },
      { tier: tiers[2], inStock: false },
    ]);
    claimed.set(2, 2);
    expect(claimTiers(tiers, 1, 2, available)).toEqual([{ tier: tiers[1], inStock: false }]);
  });

  it('claims nothing when no tier was newly passed', () => {
    expect(claimTiers(tiers, 2, 2, () => true)).toEqual([]);
  });
});

describe('notes', () => {
  it('an assist that reaches a tier announces it (it must arrive, and takes any send left), with what is next', () => {
    expect(assistNote(tiers, { status: 'counted', number: 3, tier: 1 }, [{ tier: tiers[0], inStock: true }])).toEqual({
      scene: 'tier_reached',
      vars: {
        number: 3,
        remaining: 7,
        next_good: '保温杯',
        next_tier: '第二档',
        next_step: '再邀请 7 人可得第二档【保温杯】',
        level: 1,
        tier: '第一档',
        good: '优惠券',
      },
      mustArrive: true,
      reserve: 0,
    });
  });

  it('a plain progress note keeps a send for every prize still ahead, and gives way', () => {
    expect(assistNote(tiers, { status: 'counted', number: 4, tier: 1 }, [])).toMatchObject({ scene: 'progress', mustArrive: false, reserve: 2 });
    expect(assistNote(tiers, { status: 'counted', number: 31, tier: 3 }, [])).toMatchObject({
      reserve: 0,
      vars: { next_step: '你已完成全部任务', remaining: 0 },
    });
  });

  it('a sold-out tier is still announced, marked so its words do not promise the prize', () => {
    expect(assistNote(tiers, { status: 'counted', number: 30, tier: 3 }, [{ tier: tiers[2], inStock: false }])).toMatchObject({
      scene: 'tier_reached',
      soldOut: true,
      vars: { tier: '第三档', good: '蓝牙耳机' },
    });
  });

  it('a deduction tells the new count and keeps sends for the prizes ahead', () => {
    expect(deductNote(tiers, { ...owner, taskProgress: 1 }, 2)).toEqual({
      scene: 'deducted',
      vars: { number: 2, remaining: 8, next_good: '保温杯', next_tier: '第二档', next_step: '再邀请 8 人可得第二档【保温杯】' },
      mustArrive: false,
      reserve: 2,
    });
  });
});

describe('judgeUnfollow', () => {
  const helper = { ownerRowId: 11, counted: true };
  it('takes a counted assist back while the activity runs, with 取关扣助力 on', () => {
    expect(judgeUnfollow(settings, { accountId: 7, at: NOW, helper, owner })).toEqual({ status: 'deducted', ownerRowId: 11, number: 1 });
  });

  it('leaves it when deduction is off, the activity is over, or the assist was already taken back', () => {
    expect(judgeUnfollow({ ...settings, deduct: false }, { accountId: 7, at: NOW, helper, owner })).toEqual({ status: 'none' });
    expect(judgeUnfollow(settings, { accountId: 7, at: NOW + HOUR, helper, owner })).toEqual({ status: 'none' });
    expect(judgeUnfollow(settings, { accountId: 7, at: NOW, helper: { ...helper, counted: false }, owner })).toEqual({ status: 'none' });
    expect(judgeUnfollow(settings, { accountId: 7, at: NOW, helper: undefined, owner: undefined })).toEqual({ status: 'none' });
  });
});
