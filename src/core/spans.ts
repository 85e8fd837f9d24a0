/** A decoded span over word indices (end inclusive) with a 0-based class index. */
export interface WordSpan {
  start: number;
  end: number;
  label: number;
  score: number;
}

/**
 * Greedy selection of the reference (`BaseDecoder.greedy_search`): candidates are
 * stable-sorted by descending score; a candidate is kept when it conflicts with no kept
 * span; kept spans are returned stable-sorted by start.
 *
 * Conflicts (end inclusive):
 * - identical (start, end): conflict unless `multiLabel`;
 * - flat: any intersection;
 * - nested: partial overlap (intersecting, neither inside the other).
 *
 * Kept spans are indexed by the words they cover, so each check costs the candidate's
 * width rather than the number of kept spans.
 */
export function greedySelect(candidates: readonly WordSpan[], flatNer: boolean, multiLabel: boolean): WordSpan[] {
  if (candidates.length === 0) return [];
  const order = candidates.slice().sort((a, b) => b.score - a.score);
  let maxEnd = 0;
  for (const c of candidates) if (c.end > maxEnd) maxEnd = c.end;
  const kept: WordSpan[] = [];
  // cover[w]: indices into `kept` of spans covering word w.
  const cover: number[][] = Array.from({ length: maxEnd + 1 }, () => []);

  for (const cand of order) {
    if (!conflicts(cand, kept, cover, flatNer, multiLabel)) {
      const idx = kept.length;
      kept.push(cand);
      for (let w = cand.start; w <= cand.end; w++) cover[w]!.push(idx);
    }
  }
  return kept.sort((a, b) => a.start - b.start);
}

function conflicts(cand: WordSpan, kept: readonly WordSpan[], cover: readonly number[][], flatNer: boolean, multiLabel: boolean): boolean {
  for (let w = cand.start; w <= cand.end; w++) {
    for (const idx of cover[w]!) {
      const other = kept[idx]!;
      if (other.start === cand.start && other.end === cand.end) {
        if (!multiLabel) return true;
        continue;
      }
      if (flatNer) return true;
      const nested =
        (other.start <= cand.start && other.end >= cand.end) || (cand.start <= other.start && cand.end >= other.end);
      if (!nested) return true;
    }
  }
  return false;
}
