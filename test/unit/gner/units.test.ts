import { describe, expect, it } from 'vitest';
import { planUnits } from '../../../src/gner/units.js';

const ends = (n: number, at: number[]): Uint8Array => {
  const e = new Uint8Array(n);
  for (const i of at) e[i] = 1;
  return e;
};

describe('planUnits (GNER prompts per field)', () => {
  it('reads one sentence per prompt by default, covering every word once in order', () => {
    const units = planUnits([1, 1, 1, 1, 1, 1, 1], ends(7, [2, 4]), { textTokens: 100, groupWords: 0 });
    expect(units).toEqual([
      { first: 0, last: 2 },
      { first: 3, last: 4 },
      { first: 5, last: 6 },
    ]);
  });

  it('cuts a sentence longer than the token budget at word boundaries', () => {
    const units = planUnits([3, 3, 3, 3, 3], ends(5, [4]), { textTokens: 7, groupWords: 0 });
    expect(units).toEqual([
      { first: 0, last: 1 },
      { first: 2, last: 3 },
      { first: 4, last: 4 },
    ]);
  });

  it('keeps a single word over the budget as its own prompt (never drops a word)', () => {
    expect(planUnits([50, 1], ends(2, [1]), { textTokens: 10, groupWords: 0 })).toEqual([
      { first: 0, last: 0 },
      { first: 1, last: 1 },
    ]);
  });

  it('packs consecutive sentences up to groupWords words and the token budget', () => {
    const counts = new Array(10).fill(1);
    const units = planUnits(counts, ends(10, [1, 3, 5, 7, 9]), { textTokens: 100, groupWords: 5 });
    expect(units).toEqual([
      { first: 0, last: 3 },
      { first: 4, last: 7 },
      { first: 8, last: 9 },
    ]);
    const tight = planUnits(counts, ends(10, [1, 3, 5, 7, 9]), { textTokens: 3, groupWords: 100 });
    expect(tight.every((u) => u.last - u.first + 1 <= 3)).toBe(true);
  });

  it('returns no unit for no words', () => {
    expect(planUnits([], new Uint8Array(0), { textTokens: 10, groupWords: 0 })).toEqual([]);
  });
});
