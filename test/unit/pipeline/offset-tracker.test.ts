import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetTracker, parseOffset } from '../../../src/pipeline/offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits only up to the first unfinished offset', () => {
    const t = new OffsetTracker(10);
    expect(t.committable()).toBe(10);
    for (const o of [10, 11, 12, 13]) t.register(o);
    t.complete(12);
    t.complete(11);
    expect(t.committable()).toBe(10);
    t.complete(10);
    expect(t.committable()).toBe(13);
    t.complete(13);
    expect(t.committable()).toBe(14);
    for (const o of [10, 11, 12, 13]) expect(t.isPending(o)).toBe(false);
  });

  it('handles gaps (compaction, transaction markers) and learns its start', () => {
    const t = new OffsetTracker();
    expect(t.committable()).toBeUndefined();
    t.register(5);
    t.register(9);
    expect(t.committable()).toBe(5);
    t.complete(5);
    expect(t.committable()).toBe(9);
    t.complete(9);
    expect(t.committable()).toBe(10);
  });

  it('refuses out-of-order registration and unknown completions', () => {
    const t = new OffsetTracker(3);
    expect(() => t.register(2)).toThrow(RangeError);
    t.register(3);
    t.register(5);
    expect(() => t.register(5)).toThrow(RangeError);
    expect(() => t.complete(4)).toThrow(RangeError);
    t.complete(3);
    expect(() => t.complete(3)).toThrow(RangeError);
    expect(() => parseOffset('-1')).toThrow(RangeError);
    expect(parseOffset('42')).toBe(42);
  });

  it('never commits past an unfinished offset, whatever the completion order (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 300 }),
        fc.infiniteStream(fc.nat()),
        (start, gaps, picks) => {
          const offsets: number[] = [];
          let o = start;
          for (const g of gaps) {
            offsets.push(o);
            o += g;
          }
          const t = new OffsetTracker(start);
          const open = new Set<number>();
          const it = picks[Symbol.iterator]();
          let registered = 0;
          let last = start;
          // Interleave registrations and completions in random order.
          while (registered < offsets.length || open.size > 0) {
            const r = it.next().value as number;
            if (registered < offsets.length && (open.size === 0 || r % 3 === 0)) {
              t.register(offsets[registered]!);
              open.add(offsets[registered]!);
              registered += 1;
            } else {
              const list = [...open];
              const done = list[r % list.length]!;
              t.complete(done);
              open.delete(done);
            }
            const c = t.committable()!;
            // Every registered offset below the committable one is done…
            for (const u of open) expect(u).toBeGreaterThanOrEqual(c);
            // …and it never moves backwards.
            expect(c).toBeGreaterThanOrEqual(last);
            last = c;
          }
          expect(t.committable()).toBe(offsets[offsets.length - 1]! + 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
