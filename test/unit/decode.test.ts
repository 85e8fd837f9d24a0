import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectTokenLayout, float16ToFloat32, sigmoid32, spanCandidates, tokenCandidates } from '../../src/gliner/decode.js';
import type { WordSpan } from '../../src/core/spans.js';

/** Literal port of gliner TokenDecoder._calculate_span_score for one row: the oracle. */
function referenceToken(start: number[][], end: number[][], inside: number[][], thr: number): WordSpan[] {
  const where = (m: number[][]) => {
    const out: Array<[number, number]> = [];
    m.forEach((row, i) => row.forEach((v, c) => v > thr && out.push([i, c])));
    return out;
  };
  const spans: WordSpan[] = [];
  for (const [st, cs] of where(start)) {
    for (const [ed, ce] of where(end)) {
      if (ed >= st && cs === ce) {
        const ins = inside.slice(st, ed + 1).map((r) => r[cs]!);
        if (ins.some((s) => s < thr)) continue;
        spans.push({ start: st, end: ed, label: cs, score: Math.min(...ins, start[st]![cs]!, end[ed]![ce]!) });
      }
    }
  }
  return spans;
}

const logit = fc.double({ min: -4, max: 4, noNaN: true }).map(Math.fround);

describe('token decoding', () => {
  it('equals the reference loops in both output layouts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(0.3, 0.5, 0.7),
        fc.infiniteStream(logit),
        (B, W, C, thr, stream) => {
          const it = stream[Symbol.iterator]();
          const cube = () => Array.from({ length: B }, () => Array.from({ length: W }, () => Array.from({ length: C }, () => it.next().value as number)));
          const [s, e, ins] = [cube(), cube(), cube()];
          const bwc3 = new Float32Array(B * W * C * 3);
          const old = new Float32Array(3 * B * W * C);
          for (let b = 0; b < B; b++)
            for (let w = 0; w < W; w++)
              for (let c = 0; c < C; c++)
                [s, e, ins].forEach((t, k) => {
                  bwc3[((b * W + w) * C + c) * 3 + k] = t[b]![w]![c]!;
                  old[((k * B + b) * W + w) * C + c] = t[b]![w]![c]!;
                });
          for (let b = 0; b < B; b++) {
            const n = W - (b % 2); // shorter rows exercise the padding guard
            const sig = (t: number[][][]) => t[b]!.slice(0, n).map((r) => r.map(sigmoid32));
            const want = referenceToken(sig(s), sig(e), sig(ins), thr);
            expect(tokenCandidates(bwc3, 'BWC3', B, W, C, b, n, thr)).toEqual(want);
            expect(tokenCandidates(old, '3BWC', B, W, C, b, n, thr)).toEqual(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('detects the layout, and refuses the ambiguous B = W = C = 3 shape', () => {
    expect(detectTokenLayout([2, 5, 4, 3], 2, 5, 4)).toBe('BWC3');
    expect(detectTokenLayout([3, 2, 5, 4], 2, 5, 4)).toBe('3BWC');
    expect(detectTokenLayout([3, 3, 3, 3], 3, 3, 3)).toBeUndefined();
    expect(detectTokenLayout([1, 2, 3], 1, 2, 3)).toBeUndefined();
  });
});

describe('span decoding', () => {
  it('keeps strictly-above-threshold spans inside the text, in (start, width, class) order', () => {
    const W = 3;
    const K = 2;
    const C = 2;
    const logits = new Float32Array(W * K * C).fill(-5);
    const set = (s: number, k: number, c: number, v: number) => (logits[(s * K + k) * C + c] = v);
    set(0, 1, 1, 2); // (0,1) class 1
    set(0, 0, 0, 1); // (0,0) class 0
    set(2, 1, 0, 3); // (2,3): beyond a 3-word text, dropped
    set(1, 0, 1, 0); // sigmoid exactly 0.5: not > 0.5
    const got = spanCandidates(logits, [1, W, K, C], 0, 3, 0.5);
    expect(got.map((s) => [s.start, s.end, s.label])).toEqual([
      [0, 0, 0],
      [0, 1, 1],
    ]);
    expect(got[0]!.score).toBe(sigmoid32(1));
  });
});

describe('float16ToFloat32', () => {
  it('decodes normal, subnormal and special values', () => {
    const bits = Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7c00, 0x0000, 0x3555]);
    const out = Array.from(float16ToFloat32(bits));
    expect(out.slice(0, 5)).toEqual([1, -2, 2 ** -24, Infinity, 0]);
    expect(out[5]).toBeCloseTo(0.33325, 5);
  });
});
