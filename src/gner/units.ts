/**
 * How a field's words are cut into the prompts a GNER model reads. GNER was trained and
 * evaluated on single sentences (at most 640 tokens), and its output repeats every input word,
 * so the cost of a prompt grows with its length: an article is read a sentence at a time (or,
 * with `groupWords` > 0, in groups of consecutive sentences up to that many words), each within
 * the encoder budget. A sentence longer than the budget is cut at word boundaries (an entity
 * across such a cut is found in two parts). Pure: no tokenizer, no ONNX.
 */

/** Words `first..last` (inclusive) of a field, read as one prompt. */
export interface GnerUnit {
  first: number;
  last: number;
}

export interface UnitLimits {
  /** Sub-tokens the sentence may take (the source budget minus the prompt head and `</s>`). */
  textTokens: number;
  /** Pack consecutive sentences up to this many words per prompt; 0 = one sentence per prompt. */
  groupWords: number;
}

/**
 * Units covering every word once, in order. `wordTokens[i]` is word i's sub-token count,
 * `sentenceEnds[i]` is 1 when a sentence ends after word i.
 */
export function planUnits(wordTokens: ArrayLike<number>, sentenceEnds: ArrayLike<number>, limits: UnitLimits): GnerUnit[] {
  const n = wordTokens.length;
  if (!(limits.textTokens >= 1)) throw new RangeError(`textTokens must be ≥ 1, got ${limits.textTokens}`);
  // 1. Sentences, each cut at word boundaries where it exceeds the token budget.
  const pieces: Array<GnerUnit & { tokens: number }> = [];
  let first = 0;
  let tokens = 0;
  for (let i = 0; i < n; i++) {
    const t = Math.max(1, wordTokens[i]!);
    if (i > first && tokens + t > limits.textTokens) {
      pieces.push({ first, last: i - 1, tokens });
      first = i;
      tokens = 0;
    }
    tokens += t;
    if (sentenceEnds[i] === 1 || i === n - 1) {
      pieces.push({ first, last: i, tokens });
      first = i + 1;
      tokens = 0;
    }
  }
  if (limits.groupWords <= 0) return pieces.map(({ first: f, last }) => ({ first: f, last }));
  // 2. Consecutive pieces packed while both budgets hold.
  const units: GnerUnit[] = [];
  let open: (GnerUnit & { tokens: number }) | undefined;
  for (const p of pieces) {
    if (open !== undefined && p.last - open.first + 1 <= limits.groupWords && open.tokens + p.tokens <= limits.textTokens) {
      open.last = p.last;
      open.tokens += p.tokens;
      continue;
    }
    if (open !== undefined) units.push({ first: open.first, last: open.last });
    open = { ...p };
  }
  if (open !== undefined) units.push({ first: open.first, last: open.last });
  return units;
}
