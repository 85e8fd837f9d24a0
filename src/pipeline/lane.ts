import { setMaxListeners } from 'node:events';
import type { Outcome } from './article-processor.js';
import { OffsetTracker } from './offset-tracker.js';

/** One admitted message of a partition. */
export interface Entry {
  readonly lane: PartitionLane;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Set when processing finished; the sinks may still turn `enriched` into `dead`. */
  outcome: Outcome | undefined;
  /** Taken by a sink round. */
  inRound: boolean;
}

/**
 * The work of one input partition this member owns: messages in offset order from
 * admission until their effects are done, and the offset tracker that decides commits.
 * Revoking a lane aborts its pending work; nothing of it is committed afterwards.
 */
export class PartitionLane {
  /** Admitted entries in offset order; slots before `head` are released (cleared for the GC). */
  private entries: Array<Entry | undefined> = [];
  private head = 0;
  readonly tracker: OffsetTracker;
  private readonly controller = new AbortController();
  /** Aborts when the lane is revoked or the pipeline is forced to stop. */
  readonly signal: AbortSignal;
  /** Next offset to admit: earlier ones were admitted already (refetches after a rebalance). */
  nextOffset: number | undefined;
  /** Last high watermark seen in a fetched batch. */
  highWatermark: number | undefined;
  /** Offset last handed to a commit (non-EOS), to skip unchanged commits. */
  committedOffset: number | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    parentSignal: AbortSignal,
    start?: number,
  ) {
    this.tracker = new OffsetTracker(start);
    this.nextOffset = start;
    this.signal = AbortSignal.any([parentSignal, this.controller.signal]);
    // Every message waiting for an inference slot listens on it: no listener limit.
    setMaxListeners(0, this.signal);
  }

  get revoked(): boolean {
    return this.controller.signal.aborted;
  }

  /** Messages admitted and not yet released. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Registers a message; offsets must increase. */
  admit(offset: number, key: Buffer | null, value: Buffer | null): Entry {
    this.tracker.register(offset);
    const entry: Entry = { lane: this, offset, key, value, outcome: undefined, inRound: false };
    this.entries.push(entry);
    this.nextOffset = offset + 1;
    return entry;
  }

  /**
   * The longest run of finished entries from the head not yet taken by a round: effects are
   * applied in offset order, so an unfinished entry holds back the ones after it.
   */
  takeReady(): Entry[] {
    const out: Entry[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.inRound) continue;
      if (e.outcome === undefined) break;
      e.inRound = true;
      out.push(e);
    }
    return out;
  }

  /** Marks entries done (their effects are applied) and drops them from the head. */
  release(done: readonly Entry[]): void {
    for (const e of done) this.tracker.complete(e.offset);
    while (this.head < this.entries.length && !this.tracker.isPending(this.entries[this.head]!.offset)) {
      // Released entries hold message bytes and enriched JSON: let them go now, not at compaction.
      this.entries[this.head] = undefined;
      this.head += 1;
    }
    if (this.head > 256 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Stops the lane: pending work is abandoned, nothing more is committed for it. */
  revoke(reason: string): void {
    this.controller.abort(reason);
    this.entries = [];
    this.head = 0;
  }
}
