/**
 * Cuts a long text into overlapping windows of words that fit the model:
 * at most `maxWords` words (the model's `max_len`) and at most `maxTextTokens`
 * sub-tokens (the encoder budget left after [CLS], the label prompt and [SEP]).
 *
 * Each window also gets an *ownership* range: the word positions where spans found
 * in this window may start. Ranges of neighbours meet in the middle of their overlap,
 * so every start position belongs to exactly one window (an entity seen twice is
 * reported once) and a window never reports spans from its cut edges, where it lacks
 * context or sees only part of an entity.
 */

/** Part of a full window kept at least when cutting at a sentence end. */
const MIN_FILL = 0.8;

export interface WindowLimits {
  maxWords: number;
  maxTextTokens: number;
  /** Words shared by neighbouring windows. */
  overlapWords: number;
}

export interface Window {
  /** First word (inclusive). */
  start: number;
  /** Last word (exclusive). */
  end: number;
  /** Spans found in this window are kept when ownStart ≤ span start < ownEnd. */
  ownStart: number;
  ownEnd: number;
}

/**
 * Plans windows over `counts` (sub-tokens per word). A text within both limits gets
 * exactly one window covering it. Windows end preferably after a sentence end
 * (`sentenceEnds[i] = 1`), searched in the last fifth of the window only, so a window
 * never shrinks below 80% of what fits and cost stays linear with a small constant.
 * A single word with more sub-tokens than the budget still gets a window of its own.
 */
export function planWindows(counts: ArrayLike<number>, sentenceEnds: ArrayLike<number>, limits: WindowLimits): Window[] {
  const n = counts.length;
  if (n === 0) return [];
  const { maxWords, maxTextTokens, overlapWords } = limits;
  const spans: Array<[number, number]> = [];
  let s = 0;
  for (;;) {
    let e = s;
    let tokens = 0;
    while (e < n && e - s < maxWords && (e === s || tokens + counts[e]! <= maxTextTokens)) {
      tokens += counts[e]!;
      e++;
    }
    if (e === n) {
      spans.push([s, n]);
      break;
    }
    const minEnd = s + Math.max(overlapWords + 1, Math.ceil((e - s) * MIN_FILL));
    let cut = e;
    for (let j = e; j >= minEnd; j--) {
      if (sentenceEnds[j - 1] === 1) {
        cut = j;
        break;
      }
    }
    spans.push([s, cut]);
    s = Math.max(s + 1, cut - overlapWords);
  }
  return spans.map(([start, end], i) => {
    const prev = spans[i - 1];
    const next = spans[i + 1];
    return {
      start,
      end,
      ownStart: prev ? Math.floor((start + prev[1]) / 2) : 0,
      ownEnd: next ? Math.floor((next[0] + end) / 2) : n,
    };
  });
}
