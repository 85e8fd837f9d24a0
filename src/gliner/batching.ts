/** Limits of one inference batch. */
export interface BatchLimits {
  /** Texts (windows) per batch. @defaultValue 8 */
  maxBatchSize: number;
  /** Padded sub-tokens per batch (rows × longest row). @defaultValue 8192 */
  maxBatchTokens: number;
}

/**
 * Packs items into batches by descending sequence length: neighbours have similar
 * lengths, so padding stays small. Each batch holds at least one item, whatever its size.
 * Returns batches of indices into `lengths`.
 */
export function packBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const i of order) {
    const len = lengths[i]!;
    const rows = current.length + 1;
    const width = Math.max(longest, len);
    if (current.length > 0 && (rows > limits.maxBatchSize || rows * width > limits.maxBatchTokens)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(i);
    longest = Math.max(longest, len);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
