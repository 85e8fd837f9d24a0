/**
 * Builds the ONNX feeds of a batch exactly as the reference collator does
 * (gliner `BaseProcessor.tokenize_inputs`, `prepare_word_mask`, `prepare_span_idx`).
 */

/** One text (or window) ready for the model: its words' sub-token ids, flattened. */
export interface EncodedText {
  /** Sub-token ids of all words, concatenated. */
  ids: Int32Array;
  /** counts[i] = number of sub-tokens of word i (may be 0, e.g. a lone BOM). */
  counts: Int32Array;
}

export interface SpecialIds {
  clsId: number;
  sepId: number;
  padId: number;
}

/** Feeds in ONNX Runtime's layout. int64 tensors are BigInt64Array, `span_mask` is bool (Uint8Array). */
export interface BatchFeeds {
  batch: number;
  seqLen: number;
  /** W: the largest word count in the batch. */
  maxWords: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  wordsMask: BigInt64Array;
  textLengths: BigInt64Array;
  spanIdx?: BigInt64Array;
  spanMask?: Uint8Array;
}

/** Sequence length of a text: [CLS] + prompt + text sub-tokens + [SEP]. */
export function sequenceLength(item: EncodedText, promptLength: number): number {
  return item.ids.length + promptLength + 2;
}

/**
 * Writes int64 values through an Int32Array view of the BigInt64Array: creating a
 * BigInt per element costs far more than the model's pre-processing otherwise does.
 * All values are small and non-negative, so the high word stays 0 (little-endian).
 */
function int64View(length: number): { big: BigInt64Array; low: Int32Array } {
  const big = new BigInt64Array(length);
  return { big, low: new Int32Array(big.buffer) };
}

/**
 * Builds input_ids, attention_mask, words_mask, text_lengths and, for span models,
 * span_idx / span_mask for a batch sharing one prompt.
 */
export function encodeBatch(
  items: readonly EncodedText[],
  prompt: Int32Array,
  special: SpecialIds,
  spanWidth: number | undefined,
): BatchFeeds {
  const batch = items.length;
  let seqLen = 0;
  let maxWords = 0;
  for (const item of items) {
    seqLen = Math.max(seqLen, sequenceLength(item, prompt.length));
    maxWords = Math.max(maxWords, item.counts.length);
  }
  const ids = int64View(batch * seqLen);
  const att = int64View(batch * seqLen);
  const wm = int64View(batch * seqLen);
  const tl = int64View(batch);
  const P = prompt.length;

  for (let b = 0; b < batch; b++) {
    const item = items[b]!;
    const row = b * seqLen;
    const len = sequenceLength(item, P);
    if (special.padId !== 0) for (let j = len; j < seqLen; j++) ids.low[2 * (row + j)] = special.padId;
    ids.low[2 * row] = special.clsId;
    for (let j = 0; j < P; j++) ids.low[2 * (row + 1 + j)] = prompt[j]!;
    const textStart = row + 1 + P;
    for (let j = 0; j < item.ids.length; j++) ids.low[2 * (textStart + j)] = item.ids[j]!;
    ids.low[2 * (row + len - 1)] = special.sepId;
    for (let j = 0; j < len; j++) att.low[2 * (row + j)] = 1;
    // words_mask: the first sub-token of each word gets the running count of words that
    // produced a token (1-based). A word with no sub-tokens shifts later words, as in the reference.
    let pos = textStart;
    let seen = 0;
    for (const count of item.counts) {
      if (count > 0) {
        seen += 1;
        wm.low[2 * pos] = seen;
        pos += count;
      }
    }
    tl.low[2 * b] = item.counts.length;
  }

  const feeds: BatchFeeds = {
    batch,
    seqLen,
    maxWords,
    inputIds: ids.big,
    attentionMask: att.big,
    wordsMask: wm.big,
    textLengths: tl.big,
  };
  if (spanWidth !== undefined) {
    const K = spanWidth;
    const spans = int64View(batch * maxWords * K * 2);
    const mask = new Uint8Array(batch * maxWords * K);
    for (let b = 0; b < batch; b++) {
      const n = items[b]!.counts.length;
      for (let s = 0; s < n; s++) {
        for (let k = 0; k < K; k++) {
          const flat = (b * maxWords + s) * K + k;
          spans.low[4 * flat] = s;
          spans.low[4 * flat + 2] = s + k;
          mask[flat] = s + k < n ? 1 : 0;
        }
      }
    }
    feeds.spanIdx = spans.big;
    feeds.spanMask = mask;
  }
  return feeds;
}
