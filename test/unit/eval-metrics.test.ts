import { describe, expect, it } from 'vitest';
import { Scorer, matchText, scores, wordIndexAt } from '../../eval/metrics.js';

describe('eval metrics (exact span and label, micro)', () => {
  it('counts a prediction once against each gold copy and a wrong label as both a miss and a false alarm', () => {
    const gold = [
      { start: 0, end: 5, label: 'person' },
      { start: 10, end: 15, label: 'location' },
    ];
    const pred = [
      { start: 0, end: 5, label: 'person' },
      { start: 0, end: 5, label: 'person' },
      { start: 10, end: 15, label: 'organization' },
    ];
    const m = matchText(gold, pred);
    expect([m.tp.length, m.fp.length, m.fn.length]).toEqual([1, 2, 1]);
    const s = scores({ tp: m.tp.length, fp: m.fp.length, fn: m.fn.length });
    expect(s.precision).toBeCloseTo(1 / 3);
    expect(s.recall).toBeCloseTo(1 / 2);
    expect(s.f1).toBeCloseTo(0.4);
  });

  it('keeps per-label counts and scores empty sets as 0 without dividing by zero', () => {
    const scorer = new Scorer();
    scorer.addText([{ start: 1, end: 2, label: 'person' }], [{ start: 3, end: 4, label: 'location' }]);
    expect(scorer.byLabel.get('person')).toEqual({ tp: 0, fp: 0, fn: 1 });
    expect(scorer.byLabel.get('location')).toEqual({ tp: 0, fp: 1, fn: 0 });
    expect(scores({ tp: 0, fp: 0, fn: 0 }).f1).toBe(0);
  });

  it('finds the word an offset falls in', () => {
    const starts = [0, 4, 9];
    expect([0, 3, 4, 8, 9, 100].map((o) => wordIndexAt(starts, o))).toEqual([0, 0, 1, 1, 2, 2]);
  });
});
