/**
 * Per-partition bookkeeping of what may be committed. Messages are registered in fetch
 * order (strictly increasing offsets, gaps allowed: compaction, transaction markers) and
 * complete in any order; the committable offset is the first offset that is not done,
 * so a commit never covers unfinished work however completions interleave.
 */
export class OffsetTracker {
  /** Registered offsets not yet released, in increasing order (a ring of `head..`). */
  private pending: number[] = [];
  private head = 0;
  private readonly done = new Set<number>();
  /** Next offset to commit once everything before it is done; undefined until known. */
  private position: number | undefined;

  /**
   * @param start - offset of the first message this tracker will see (the fetch position),
   *   or undefined to learn it from the first `register`.
   */
  constructor(start?: number) {
    this.position = start;
  }

  /** Registers a message handed to processing. Offsets must increase. */
  register(offset: number): void {
    assertOffset(offset);
    const last = this.pending.length > this.head ? this.pending[this.pending.length - 1]! : undefined;
    if ((last !== undefined && offset <= last) || (this.position !== undefined && offset < this.position)) {
      throw new RangeError(`offset ${offset} registered out of order (last ${last ?? 'none'}, position ${this.position ?? 'none'})`);
    }
    this.position ??= offset;
    this.pending.push(offset);
  }

  /** Marks a registered message as fully done (indexed + produced, or dead-lettered). */
  complete(offset: number): void {
    if (!this.isPending(offset)) throw new RangeError(`offset ${offset} is not pending`);
    this.done.add(offset);
    while (this.head < this.pending.length && this.done.delete(this.pending[this.head]!)) {
      this.position = this.pending[this.head]! + 1;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }

  /** Whether `offset` was registered and is not yet released (binary search). */
  isPending(offset: number): boolean {
    let lo = this.head;
    let hi = this.pending.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.pending[mid]!;
      if (v === offset) return true;
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /**
   * The offset to commit (Kafka semantics: the next message to read): every registered
   * message below it is done, and it is at or below the first unfinished one. Undefined
   * when nothing was ever registered and no start was given.
   */
  committable(): number | undefined {
    if (this.head < this.pending.length) return this.pending[this.head]!;
    return this.position;
  }
}

function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
}

/** Parses a Kafka offset string; offsets above 2^53 are refused (they never occur in practice). */
export function parseOffset(offset: string): number {
  const n = Number(offset);
  assertOffset(n);
  return n;
}
