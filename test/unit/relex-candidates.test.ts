/**
 * The relation graph's candidate list as the engine rebuilds it from `logits`: spans above the
 * graph's entity threshold in (start, width) order, and the graph's memory bound
 * (`onnx_max_candidates`): at most that many, by best-label logit, ties at the last place kept.
 */
import { describe, expect, it } from 'vitest';
import { packedCandidates } from '../../src/gliner/relex-decode.js';

/** logits [1, W, K, C] with `best[s][k]` as the best label's logit (others far below). */
function logitsOf(best: number[][], K: number, C = 2): { data: Float32Array; dims: number[] } {
  const W = best.length;
  const data = new Float32Array(W * K * C).fill(-20);
  best.forEach((row, s) => row.forEach((v, k) => (data[(s * K + k) * C + (k % C)] = v)));
  return { data, dims: [1, W, K, C] };
}

describe('packedCandidates', () => {
  // 4 words, spans of up to 2 words: logit > 0 is probability > 0.5.
  const { data, dims } = logitsOf(
    [
      [3, -1],
      [0.5, 2],
      [-2, 1],
      [4, -9],
    ],
    2,
  );

  it('keeps the spans above the threshold in (start, width) order, within the text', () => {
    expect(packedCandidates(data, dims, 0, 4, 0.5)).toEqual([
      [0, 0],
      [1, 1],
      [1, 2],
      [2, 3],
      [3, 3],
    ]);
    // A shorter text (3 words) has no span past its end.
    expect(packedCandidates(data, dims, 0, 3, 0.5)).toEqual([
      [0, 0],
      [1, 1],
      [1, 2],
    ]);
  });

  it('keeps at most maxCandidates, the highest logits, in the same order', () => {
    expect(packedCandidates(data, dims, 0, 4, 0.5, 3)).toEqual([
      [0, 0],
      [1, 2],
      [3, 3],
    ]);
    expect(packedCandidates(data, dims, 0, 4, 0.5, 5)).toHaveLength(5);
    expect(packedCandidates(data, dims, 0, 4, 0.5, 100)).toHaveLength(5);
  });

  it('keeps every span tied at the last place, as the graph does', () => {
    const tied = logitsOf(
      [
        [2, 1],
        [1, 1],
        [3, -5],
      ],
      2,
    );
    // Logits 2, 1, 1, 1, 3 above 0: the 2nd best is 2; with 3 places the last is 1, tied three times.
    expect(packedCandidates(tied.data, tied.dims, 0, 3, 0.5, 2)).toEqual([
      [0, 0],
      [2, 2],
    ]);
    expect(packedCandidates(tied.data, tied.dims, 0, 3, 0.5, 3)).toHaveLength(5);
  });
});
