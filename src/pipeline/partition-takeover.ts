import type { EnricherError } from '../errors.js';
import { isEnricherError, toEnricherError, withContext } from '../errors.js';
import type { Logger } from '../logger.js';
import { sleep } from '../retry.js';
import type { KafkaSink } from './kafka-sink.js';
import type { Source } from './source.js';

export interface TakeoverDeps {
  readonly topic: string;
  readonly source: Pick<Source, 'hold' | 'unhold' | 'assigned' | 'committed' | 'seek'>;
  readonly kafka: Pick<KafkaSink, 'fence'>;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly hasLane: (partition: number) => boolean;
  /** Starts the partition's lane at `start` (undefined: learn it from the first message). */
  readonly createLane: (partition: number, start: number | undefined) => void;
  /** First offset admitted since the partition was assigned (restart target when nothing is committed). */
  readonly firstSeen: (partition: number) => number | undefined;
  readonly fail: (error: EnricherError) => void;
}

/**
 * Exactly-once ownership of an input partition, the pre-KIP-447 way: hold (pause) the
 * partition, initialise its transactional id — which fences a previous owner and lets the
 * coordinator finish or abort that owner's open transaction — and only then read the
 * committed offset, seek there and start a fresh lane. Reading the offset before fencing could
 * miss a transaction the previous owner commits a moment later, and produce its records twice.
 * Takeovers of one partition run one after the other.
 */
export class PartitionTakeover {
  private readonly running = new Map<number, Promise<void>>();

  constructor(private readonly deps: TakeoverDeps) {}

  /** Takes the partition over after `delayMs` (after any takeover of it still running). */
  takeOver(partition: number, delayMs = 0): Promise<void> {
    const previous = this.running.get(partition) ?? Promise.resolve();
    const next = previous.then(() => this.run(partition, delayMs));
    this.running.set(partition, next);
    void next.finally(() => {
      if (this.running.get(partition) === next) this.running.delete(partition);
    });
    return next;
  }

  private async run(partition: number, delayMs: number): Promise<void> {
    const { source, kafka, signal, log, topic } = this.deps;
    source.hold(partition);
    try {
      if (delayMs > 0) await sleep(delayMs, signal);
      if (!source.assigned.has(partition) || this.deps.hasLane(partition)) return;
      await kafka.fence(topic, partition, signal);
      const committed = await source.committed(partition, signal);
      if (!source.assigned.has(partition) || this.deps.hasLane(partition)) return;
      const start = committed ?? this.deps.firstSeen(partition);
      if (start !== undefined) source.seek(partition, start);
      this.deps.createLane(partition, start);
      log.info({ partition, committed: committed ?? null, start: start ?? null }, 'partition taken over');
    } catch (err) {
      if (isEnricherError(err, 'ABORTED')) return;
      this.deps.fail(withContext(toEnricherError(err, 'KAFKA_UNAVAILABLE'), { topic, partition }));
    } finally {
      source.unhold(partition);
    }
  }
}
