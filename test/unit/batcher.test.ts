import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DynamicBatcher, resolveBatcherLimits } from '../../src/inference/batcher.js';
import { isEnricherError } from '../../src/errors.js';

const limits = { batchMaxItems: 4, batchMaxTokens: 1000, batchMaxWaitMs: 10 };
const item = (key: string, seqLen: number, at: number, id: number) => ({ key, seqLen, enqueuedAt: at, payload: id });

describe('DynamicBatcher', () => {
  it('waits for companions until the anchor is due, then sends it with the closest lengths', () => {
    const b = new DynamicBatcher<number>({ ...limits, batchMaxTokens: 2000 });
    b.push(item('k', 100, 0, 1));
    b.push(item('k', 400, 1, 2));
    b.push(item('k', 110, 2, 3));
    expect(b.take(5)).toEqual({ waitMs: 5 });
    const r = b.take(10);
    expect(r && 'batch' in r && r.batch.map((i) => i.payload)).toEqual([1, 2, 3]);
    expect(b.size).toBe(0);
  });

  it('counts a queue whose padded size reaches the token limit as full', () => {
    const b = new DynamicBatcher<number>(limits);
    b.push(item('k', 100, 0, 1));
    b.push(item('k', 400, 1, 2));
    b.push(item('k', 110, 2, 3));
    const r = b.take(0);
    // 3 × 400 > 1000: the anchor goes now with the lengths that fit beside it.
    expect(r && 'batch' in r && r.batch.map((i) => i.payload)).toEqual([1, 3]);
  });

  it('sends a full batch at once and never mixes keys', () => {
    const b = new DynamicBatcher<number>(limits);
    for (let i = 0; i < 5; i++) b.push(item(i % 2 ? 'a' : 'b', 50, i, i));
    b.push(item('b', 50, 6, 6));
    const r = b.take(6);
    expect(r && 'batch' in r && r.batch.map((i) => i.payload)).toEqual([0, 2, 4, 6]);
  });

  it('respects item and padded-token limits, always includes the oldest item, and loses nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.constantFrom('x', 'y'), len: fc.integer({ min: 1, max: 700 }) }), { minLength: 1, maxLength: 60 }), (items) => {
        const b = new DynamicBatcher<number>(limits);
        items.forEach((it, i) => b.push(item(it.key, it.len, i, i)));
        const seen: number[] = [];
        for (let guard = 0; b.size > 0 && guard < 1000; guard++) {
          const oldest = Math.min(...items.map((_, i) => i).filter((i) => !seen.includes(i)));
          const r = b.take(1e9);
          if (!r || !('batch' in r)) throw new Error('expected a batch');
          const lens = r.batch.map((i) => i.seqLen);
          expect(r.batch.length).toBeLessThanOrEqual(limits.batchMaxItems);
          if (r.batch.length > 1) expect(r.batch.length * Math.max(...lens)).toBeLessThanOrEqual(limits.batchMaxTokens);
          expect(new Set(r.batch.map((i) => i.key)).size).toBe(1);
          expect(r.batch.map((i) => i.payload)).toContain(oldest);
          seen.push(...r.batch.map((i) => i.payload));
        }
        expect(seen.sort((a, c) => a - c)).toEqual(items.map((_, i) => i));
      }),
    );
  });

  it('removes the items of an aborted request', () => {
    const b = new DynamicBatcher<number>(limits);
    for (let i = 0; i < 3; i++) b.push(item('k', 10, i, i));
    expect(b.remove((i) => i.payload === 1).map((i) => i.payload)).toEqual([1]);
    expect(b.size).toBe(2);
  });

  it('accepts the deprecated limit names for one release, not mixed with the new ones', () => {
    expect(resolveBatcherLimits({ maxItems: 2, maxTokens: 300, maxWaitMs: 1 })).toEqual({ batchMaxItems: 2, batchMaxTokens: 300, batchMaxWaitMs: 1 });
    expect(resolveBatcherLimits(limits)).toEqual(limits);
    const mixed = { ...limits, maxItems: 2, maxTokens: 300, maxWaitMs: 1 };
    let refused: unknown;
    try {
      resolveBatcherLimits(mixed);
    } catch (err) {
      refused = err;
    }
    expect(isEnricherError(refused, 'OPTIONS_INVALID')).toBe(true);
  });
});
