import { EnricherError } from '../errors.js';

/** Limits of the dynamic batcher, named as their settings (`BATCH_MAX_ITEMS`, `BATCH_MAX_TOKENS`, `BATCH_MAX_WAIT_MS`). */
export interface BatcherLimits {
  /** Windows per batch. */
  batchMaxItems: number;
  /** Padded sub-tokens per batch (rows × longest row). */
  batchMaxTokens: number;
  /** Longest time a window waits for companions before it goes alone. */
  batchMaxWaitMs: number;
}

/** @deprecated the names of `BatcherLimits` before they spelt their settings; accepted by `InferencePool.start` for one release. */
export interface DeprecatedBatcherLimits {
  maxItems: number;
  maxTokens: number;
  maxWaitMs: number;
}

/** The limits under their names; the old names are accepted, both together are OPTIONS_INVALID. */
export function resolveBatcherLimits(limits: BatcherLimits | DeprecatedBatcherLimits): BatcherLimits {
  const old = 'maxItems' in limits || 'maxTokens' in limits || 'maxWaitMs' in limits;
  const current = 'batchMaxItems' in limits || 'batchMaxTokens' in limits || 'batchMaxWaitMs' in limits;
  if (old && current) {
    throw new EnricherError('OPTIONS_INVALID', 'give the batcher batchMaxItems/batchMaxTokens/batchMaxWaitMs or their old names maxItems/maxTokens/maxWaitMs, not both');
  }
  if (!old) return limits as BatcherLimits;
  const { maxItems, maxTokens, maxWaitMs } = limits as DeprecatedBatcherLimits;
  return { batchMaxItems: maxItems, batchMaxTokens: maxTokens, batchMaxWaitMs: maxWaitMs };
}

export interface QueuedItem<T> {
  /** Items of one batch must share a key (their label prompt). */
  key: string;
  seqLen: number;
  enqueuedAt: number;
  payload: T;
}

export type TakeResult<T> = { batch: QueuedItem<T>[] } | { waitMs: number } | undefined;

/**
 * Packs windows of many articles into batches. The oldest window anchors each batch
 * (so nothing starves) and is joined by the queued windows closest to it in length
 * (so padding stays small), within the item and padded-token limits. A batch goes out
 * when it is full or when its anchor has waited `batchMaxWaitMs`.
 */
export class DynamicBatcher<T> {
  private readonly queues = new Map<string, QueuedItem<T>[]>();
  private count = 0;

  constructor(private readonly limits: BatcherLimits) {}

  get size(): number {
    return this.count;
  }

  push(item: QueuedItem<T>): void {
    let q = this.queues.get(item.key);
    if (q === undefined) {
      q = [];
      this.queues.set(item.key, q);
    }
    q.push(item);
    this.count++;
  }

  /** Removes the items matching `pred` (e.g. of an aborted request); returns them. */
  remove(pred: (item: QueuedItem<T>) => boolean): QueuedItem<T>[] {
    const removed: QueuedItem<T>[] = [];
    for (const [key, q] of this.queues) {
      const keep = q.filter((it) => (pred(it) ? (removed.push(it), false) : true));
      if (keep.length === 0) this.queues.delete(key);
      else this.queues.set(key, keep);
    }
    this.count -= removed.length;
    return removed;
  }

  /** The batch to run now, or how long until one is due, or undefined when empty. */
  take(now: number): TakeResult<T> {
    let oldest: QueuedItem<T>[] | undefined;
    for (const q of this.queues.values()) if (oldest === undefined || q[0]!.enqueuedAt < oldest[0]!.enqueuedAt) oldest = q;
    if (oldest === undefined) return undefined;
    const anchor = oldest[0]!;
    const due = anchor.enqueuedAt + this.limits.batchMaxWaitMs - now;
    if (due > 0 && !this.isFull(oldest)) return { waitMs: due };
    return { batch: this.pack(oldest) };
  }

  private isFull(q: readonly QueuedItem<T>[]): boolean {
    if (q.length >= this.limits.batchMaxItems) return true;
    let longest = 0;
    for (const it of q) longest = Math.max(longest, it.seqLen);
    return q.length * longest >= this.limits.batchMaxTokens;
  }

  private pack(q: QueuedItem<T>[]): QueuedItem<T>[] {
    const anchor = q[0]!;
    const byCloseness = q
      .map((it, i) => ({ it, i, d: Math.abs(it.seqLen - anchor.seqLen) }))
      .sort((a, b) => a.d - b.d || a.i - b.i);
    const chosen = new Set<number>();
    let longest = 0;
    for (const { it, i } of byCloseness) {
      const rows = chosen.size + 1;
      const width = Math.max(longest, it.seqLen);
      if (chosen.size > 0 && (rows > this.limits.batchMaxItems || rows * width > this.limits.batchMaxTokens)) continue;
      chosen.add(i);
      longest = width;
      if (chosen.size >= this.limits.batchMaxItems) break;
    }
    const batch: QueuedItem<T>[] = [];
    const rest: QueuedItem<T>[] = [];
    q.forEach((it, i) => (chosen.has(i) ? batch : rest).push(it));
    if (rest.length === 0) this.queues.delete(anchor.key);
    else this.queues.set(anchor.key, rest);
    this.count -= batch.length;
    return batch;
  }
}
