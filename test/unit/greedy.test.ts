import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { greedySelect, type WordSpan } from '../../src/core/spans.js';

/** Literal port of gliner's greedy_search + has_overlapping(_nested): the oracle. */
function referenceGreedy(spans: WordSpan[], flat: boolean, multi: boolean): WordSpan[] {
  const isNested = (a: WordSpan, b: WordSpan) => (a.start <= b.start && a.end >= b.end) || (b.start <= a.start && b.end >= a.end);
  const overlap = (a: WordSpan, b: WordSpan) => {
    if (a.start === b.start && a.end === b.end) return !multi;
    const disjoint = a.start > b.end || b.start > a.end;
    return flat ? !disjoint : !(disjoint || isNested(a, b));
  };
  const sorted = [...spans].sort((a, b) => -a.score - -b.score);
  const kept: WordSpan[] = [];
  for (const s of sorted) if (!kept.some((k) => overlap(s, k))) kept.push(s);
  return kept.sort((a, b) => a.start - b.start);
}

const span = fc
  .record({ start: fc.nat(30), width: fc.nat(6), label: fc.nat(3), score: fc.integer({ min: 1, max: 20 }) })
  .map(({ start, width, label, score }) => ({ start, end: start + width, label, score: score / 20 }));

describe('greedySelect', () => {
  it('follows the reference rules on a hand example', () => {
    const c: WordSpan[] = [
      { start: 0, end: 1, label: 0, score: 0.9 },
      { start: 1, end: 1, label: 1, score: 0.8 },
      { start: 0, end: 1, label: 1, score: 0.7 },
      { start: 0, end: 3, label: 2, score: 0.6 },
    ];
    expect(greedySelect(c, true, false)).toEqual([c[0]]);
    expect(greedySelect(c, true, true)).toEqual([c[0], c[2]]);
    // Nested: (1,1) sits inside (0,1) and (0,3) contains both; only identical spans conflict.
    expect(greedySelect(c, false, false)).toEqual([c[0], c[3], c[1]]);
    expect(greedySelect(c, false, true)).toEqual([c[0], c[2], c[3], c[1]]);
  });

  it('equals the reference on random candidates in every mode (ties included)', () => {
    fc.assert(
      fc.property(fc.array(span, { maxLength: 60 }), fc.boolean(), fc.boolean(), (spans, flat, multi) => {
        expect(greedySelect(spans, flat, multi)).toEqual(referenceGreedy(spans, flat, multi));
      }),
      { numRuns: 500 },
    );
  });
});
