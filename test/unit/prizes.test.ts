import { describe, expect, it } from 'vitest';
import { allGone, CLAIM_CODE_ALPHABET, claimCode, inStock, newCodes, type PrizeTier } from '../../worker/campaign/counter/prizes';

const tier = (over: Partial<PrizeTier> = {}): PrizeTier => ({ level: 1, number: 3, good: '兑换券', stock: null, kind: 'onsite', ...over });

describe('inStock', () => {
  it('an unlimited onsite or shipping tier always has a prize', () => {
    expect(inStock(tier(), { taken: 1_000_000, codes: 0 })).toBe(true);
    expect(inStock(tier({ kind: 'shipping' }), { taken: 5, codes: 0 })).toBe(true);
  });

  it('a limited tier has one while units are left', () => {
    expect(inStock(tier({ stock: 2 }), { taken: 1, codes: 0 })).toBe(true);
    expect(inStock(tier({ stock: 2 }), { taken: 2, codes: 0 })).toBe(false);
    expect(inStock(tier({ stock: 0 }), { taken: 0, codes: 0 })).toBe(false);
  });

  it('a code tier needs a code as well: running out of codes is running out of stock', () => {
    expect(inStock(tier({ kind: 'code' }), { taken: 0, codes: 1 })).toBe(true);
    expect(inStock(tier({ kind: 'code' }), { taken: 9, codes: 0 })).toBe(false);
    expect(inStock(tier({ kind: 'code', stock: 3 }), { taken: 3, codes: 10 })).toBe(false);
  });
});

describe('allGone', () => {
  it('is true only when no tier can give another prize', () => {
    const tiers = [tier({ stock: 1 }), tier({ level: 2, kind: 'code' })];
    expect(allGone(tiers, (l) => (l === 1 ? { taken: 1, codes: 0 } : { taken: 4, codes: 0 }))).toBe(true);
    expect(allGone(tiers, (l) => (l === 1 ? { taken: 1, codes: 0 } : { taken: 4, codes: 1 }))).toBe(false);
    expect(allGone([tier(), tier({ level: 2, stock: 0 })], () => ({ taken: 0, codes: 0 }))).toBe(false);
    expect(allGone([], () => ({ taken: 0, codes: 0 }))).toBe(false);
  });
});

describe('claimCode', () => {
  it('names the activity and six characters staff cannot confuse', () => {
    const code = claimCode(42, new Uint8Array([0, 1, 30, 31, 255, 100]));
    expect(code).toMatch(new RegExp(`^42-[${CLAIM_CODE_ALPHABET}]{6}$`));
    expect(code).toBe(`42-AB9A${CLAIM_CODE_ALPHABET[255 % 31]}${CLAIM_CODE_ALPHABET[100 % 31]}`);
    expect(CLAIM_CODE_ALPHABET).not.toMatch(/[0O1IL]/);
  });
});

describe('newCodes', () => {
  it('keeps each code once and none the activity already has, counting the rest as duplicates', () => {
    const known = new Set(['OLD1']);
    expect(newCodes(['A1', 'B2', 'A1', 'OLD1', 'C3'], (c) => known.has(c))).toEqual({ add: ['A1', 'B2', 'C3'], duplicates: 2 });
    expect(newCodes([], () => false)).toEqual({ add: [], duplicates: 0 });
  });
});
