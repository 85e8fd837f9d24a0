import { describe, expect, it } from 'vitest';
import { int8Family } from '../helpers/cpu-family.js';
import {
  agreementF1,
  compareEntities,
  compareLogits,
  emptyReport,
  toleratedWithinBudget,
  type Ent,
} from '../helpers/parity-compare.js';

const e = (start: number, end: number, label: string, score: number): Ent => ({ start, end, label, text: 'x'.repeat(end - start), score });

describe('parity comparison bounds', () => {
  it('accepts logit drift within 1e-4 + 1e-5·|x| and reports every value beyond it', () => {
    expect(compareLogits([0, 10, -3], [9e-5, 10.000105, -3]).violations).toBe(0);
    const r = compareLogits([0, 10, 1], [2e-4, 10.01, 1]);
    expect(r.violations).toBe(2);
    expect(r.first).toEqual({ index: 0, want: 0, have: 2e-4 });
  });

  it('matches equal entities and flags a score beyond the tolerance', () => {
    const r = emptyReport();
    compareEntities([e(0, 3, 'person', 0.9), e(5, 8, 'org', 0.7)], [e(0, 3, 'person', 0.90005), e(5, 8, 'org', 0.71)], 0.5, 't', r);
    expect(r.matched).toBe(1);
    expect(r.mismatches).toHaveLength(1);
    expect(r.mismatches[0]).toContain('score');
  });

  it('tolerates a one-sided entity only at the threshold, and a greedy tie only between close rivals', () => {
    const r = emptyReport();
    compareEntities(
      [e(0, 3, 'person', 0.50004), e(10, 14, 'org', 0.8), e(20, 25, 'loc', 0.8)],
      [e(11, 14, 'org', 0.80015), e(20, 24, 'loc', 0.9), e(30, 31, 'date', 0.6)],
      0.5,
      't',
      r,
    );
    expect(r.tolerated).toHaveLength(2); // near threshold + the 10..14 / 11..14 tie
    expect(r.mismatches).toHaveLength(3); // 20..25 missing, 20..24 extra (not a tie), 30..31 extra
  });

  it('bounds the tolerated count: at most 1% of reference entities or 2', () => {
    const r = { ...emptyReport(), reference: 300, tolerated: ['a', 'b', 'c'] };
    expect(toleratedWithinBudget(r)).toBe(true);
    expect(toleratedWithinBudget({ ...r, tolerated: ['a', 'b', 'c', 'd'] })).toBe(false);
  });

  it('measures agreement as entity F1', () => {
    expect(agreementF1([{ want: [e(0, 1, 'a', 1), e(2, 3, 'a', 1)], have: [e(0, 1, 'a', 1)] }])).toBeCloseTo(2 / 3);
  });

  it('names the int8 kernel family from the CPU flags, in MLAS order', () => {
    const saved = process.env['PARITY_CPU_FAMILY'];
    delete process.env['PARITY_CPU_FAMILY'];
    try {
      expect(int8Family(new Set(['avx2', 'avx512f', 'avx512bw', 'avx512_vnni']))).toBe('avx512vnni');
      expect(int8Family(new Set(['avx2', 'fma']))).toBe('avx2');
      expect(int8Family(new Set(['avx2', 'avx_vnni']))).toBe('avxvnni');
      expect(int8Family(new Set(['sse4_2']))).toBe('sse');
      expect(int8Family(new Set(['avx512_vnni', 'amx_int8']))).toBe('amx');
    } finally {
      if (saved !== undefined) process.env['PARITY_CPU_FAMILY'] = saved;
    }
  });
});
