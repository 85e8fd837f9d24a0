import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WordSpan } from '../../src/core/spans.js';
import { mergeWindowSpans } from '../../src/longtext/merge.js';
import { planWindows, type WindowLimits } from '../../src/longtext/windows.js';

const K = 12;
const doc = fc.record({
  counts: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 900 }),
  sentenceEvery: fc.integer({ min: 3, max: 60 }),
  maxWords: fc.integer({ min: 2 * 2 * (K - 1) + 1, max: 384 }),
  budgetSlack: fc.integer({ min: 0, max: 800 }),
});

function limitsFor(maxWords: number, slack: number): WindowLimits {
  return { maxWords, overlapWords: 2 * (K - 1), maxTextTokens: 40 + slack };
}

describe('planWindows', () => {
  it('covers the text with windows inside the limits, owned ranges partitioning it', () => {
    fc.assert(
      fc.property(doc, ({ counts, sentenceEvery, maxWords, budgetSlack }) => {
        const ends = counts.map((_, i) => ((i + 1) % sentenceEvery === 0 ? 1 : 0));
        const limits = limitsFor(maxWords, budgetSlack);
        const ws = planWindows(counts, ends, limits);
        const n = counts.length;
        expect(ws[0]!.start).toBe(0);
        expect(ws[ws.length - 1]!.end).toBe(n);
        expect(ws[0]!.ownStart).toBe(0);
        expect(ws[ws.length - 1]!.ownEnd).toBe(n);
        ws.forEach((w, i) => {
          const tokens = counts.slice(w.start, w.end).reduce((a, b) => a + b, 0);
          expect(w.end - w.start).toBeLessThanOrEqual(maxWords);
          if (w.end - w.start > 1) expect(tokens).toBeLessThanOrEqual(limits.maxTextTokens);
          expect(w.ownStart).toBeGreaterThanOrEqual(w.start);
          expect(w.ownEnd).toBeLessThanOrEqual(w.end);
          const next = ws[i + 1];
          if (next) {
            expect(next.ownStart).toBe(w.ownEnd); // contiguous partition
            expect(next.start).toBeGreaterThan(w.start); // progress
            expect(next.start).toBeLessThanOrEqual(w.end);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives a text that fits exactly one window (P1) and grows linearly otherwise (P5)', () => {
    expect(planWindows([1, 2, 3], [0, 0, 1], { maxWords: 384, maxTextTokens: 6, overlapWords: 22 })).toEqual([
      { start: 0, end: 3, ownStart: 0, ownEnd: 3 },
    ]);
    for (const n of [384 * 4, 384 * 16, 384 * 64]) {
      const counts = new Array<number>(n).fill(1);
      const ends = counts.map((_, i) => ((i + 1) % 25 === 0 ? 1 : 0));
      const ws = planWindows(counts, ends, { maxWords: 384, maxTextTokens: 480, overlapWords: 32 });
      const processed = ws.reduce((a, w) => a + w.end - w.start, 0);
      expect(processed / n).toBeLessThan(1.15);
    }
  });

  it('lets a span of width ≤ K starting in a window’s owned range end inside that window (P3)', () => {
    fc.assert(
      fc.property(doc, ({ counts, sentenceEvery, maxWords, budgetSlack }) => {
        const ends = counts.map((_, i) => ((i + 1) % sentenceEvery === 0 ? 1 : 0));
        const ws = planWindows(counts, ends, limitsFor(maxWords, budgetSlack + 400));
        ws.forEach((w, i) => {
          if (i + 1 < ws.length && ws[i + 1]!.start <= w.end - 2 * (K - 1)) {
            expect(w.ownEnd - 1 + (K - 1)).toBeLessThan(w.end);
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('mergeWindowSpans', () => {
  const ws = [
    { start: 0, end: 100, ownStart: 0, ownEnd: 89 },
    { start: 78, end: 180, ownStart: 89, ownEnd: 180 },
  ];
  it('returns the single window unchanged (P1)', () => {
    const spans: WordSpan[] = [{ start: 2, end: 3, label: 0, score: 0.9 }];
    expect(mergeWindowSpans([spans], [{ start: 0, end: 10, ownStart: 0, ownEnd: 10 }], true, false)).toEqual(spans);
  });
  it('reports an entity seen by two windows once, in document words (P2), and re-applies flat rules (P4)', () => {
    const a: WordSpan[] = [
      { start: 85, end: 86, label: 0, score: 0.9 }, // owned by window 0
      { start: 98, end: 99, label: 1, score: 0.6 }, // cut edge of window 0: not owned
    ];
    const b: WordSpan[] = [
      { start: 7, end: 8, label: 0, score: 0.8 }, // = words 85..86, not owned by window 1
      { start: 12, end: 14, label: 0, score: 0.7 }, // words 90..92, owned
      { start: 20, end: 22, label: 1, score: 0.95 }, // words 98..100, owned
    ];
    expect(mergeWindowSpans([a, b], ws, true, false)).toEqual([
      { start: 85, end: 86, label: 0, score: 0.9 },
      { start: 90, end: 92, label: 0, score: 0.7 },
      { start: 98, end: 100, label: 1, score: 0.95 },
    ]);
  });
});

describe('Preprocessor window option cutAtSentences', () => {
  it('ends windows after a sentence end by default, and at the word budget when false', async () => {
    const { loadModelText } = await import('../../src/gliner/model-text.js');
    const { preprocessor } = loadModelText(new URL('../fixtures/models/tiny-span', import.meta.url).pathname);
    const text = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} ends here.`).join(' ');
    const prompt = preprocessor.prompt(['person']);
    const ends = (cut: boolean) =>
      preprocessor.prepareText(text, preprocessor.limits(prompt, { maxWords: 100, overlapWords: 24, cutAtSentences: cut })).windows.map((w) => w.end);
    const { splitWords, wordAt } = await import('../../src/gliner/words.js');
    const words = splitWords(text);
    // Default: each cut window ends on a "." word; without sentence cuts it takes all 100 words.
    expect(ends(true).slice(0, -1).every((e) => wordAt(words, e - 1) === '.')).toBe(true);
    expect(ends(false)[0]).toBe(100);
    expect(ends(true)[0]).toBeLessThan(100);
    expect(() => preprocessor.limits(prompt, { cutAtSentences: 'yes' as unknown as boolean })).toThrow(/cutAtSentences/);
  });
});
