import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { EnricherError } from '../errors.js';
import type { Logger } from '../logger.js';
import { retry, type BackoffOptions } from '../retry.js';
import type { HealthState } from './health.js';
import type { PipelineMetrics } from './metrics.js';

/** A fetched batch handed to the pipeline. */
export interface SourceBatch {
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  readonly highWatermark: string;
  /** Moves the fetch position past a message (admitted or skipped); commits are separate. */
  readonly resolveOffset: (offset: string) => void;
  /** False once the consumer stops or the partition was seeked: stop admitting. */
  readonly usable: () => boolean;
  /** Keeps the group membership alive while the handler waits; rejects when a rebalance started. */
  readonly heartbeat: () => Promise<void>;
}

/** What the source tells the pipeline; the pipeline never throws back. */
export interface SourceHandler {
  /**
   * Admits a fetched batch. May wait (heartbeating) while the queue is full: kafkajs does not
   * fetch again until it returns, so a full queue holds the fetched batch instead of dropping
   * and refetching it.
   */
  onBatch(batch: SourceBatch): Promise<void>;
  /** After every group (re)join: partitions gained, lost and kept by this member. */
  onAssignment(change: { added: number[]; revoked: number[]; retained: number[] }): void;
  /** The consumer stopped for good (kafkajs gave up restarting it). */
  onCrash(error: EnricherError): void;
}

export interface SourceOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly backoff: BackoffOptions;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly health: HealthState;
}

/**
 * The input side: a kafkajs consumer in a group, `eachBatch` without auto-resolve or
 * auto-commit. `resolveOffset` only moves the fetch position (kafkajs refetches anything
 * unresolved); what is committed comes from the pipeline's offset trackers through
 * `commit()`, for partitions this member owns. Pausing is computed, not toggled: a partition
 * is paused while backpressure is on or while it is held (exactly-once fencing). While the
 * queue is full the pipeline waits inside `eachBatch`, calling `heartbeat()`, so kafkajs
 * neither fetches more nor lets the session expire.
 */
export class Source {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly log: Logger;
  /** Partitions of the input topic assigned in the current generation. */
  private assignedSet = new Set<number>();
  private readonly held = new Set<number>();
  private readonly pausedNow = new Set<number>();
  private backpressure = false;
  private running = false;
  private handler: SourceHandler | undefined;

  constructor(
    kafka: Kafka,
    private readonly options: SourceOptions,
  ) {
    this.log = options.logger.child({ component: 'source', topic: options.topic });
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs),
      readUncommitted: false,
      // kafkajs sleeps this long when every partition is paused before it looks again, so it
      // bounds how late consumption resumes after backpressure (default 5 s); it is also the
      // broker's long-poll wait on an idle topic.
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    });
    this.admin = kafka.admin();
    this.wireEvents();
  }

  /** Partitions owned now. */
  get assigned(): ReadonlySet<number> {
    return this.assignedSet;
  }

  private wireEvents(): void {
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      const now = new Set(payload.memberAssignment[this.options.topic] ?? []);
      const prev = this.assignedSet;
      const added = [...now].filter((p) => !prev.has(p)).sort((a, b) => a - b);
      const revoked = [...prev].filter((p) => !now.has(p)).sort((a, b) => a - b);
      const retained = [...now].filter((p) => prev.has(p)).sort((a, b) => a - b);
      this.assignedSet = now;
      for (const p of [...this.held]) if (!now.has(p)) this.held.delete(p);
      // A restarted kafkajs consumer starts with nothing paused: apply our state afresh.
      this.pausedNow.clear();
      this.options.metrics.rebalances.inc({ event: 'join' });
      if (revoked.length > 0) this.options.metrics.rebalances.inc({ event: 'revoked' }, revoked.length);
      this.log.info({ memberId: payload.memberId, added, revoked, retained }, 'joined group');
      this.handler?.onAssignment({ added, revoked, retained });
      this.syncPauses();
      if (this.options.health.set('kafka', true)) this.log.info('consumer group joined');
    });
    this.consumer.on(events.REBALANCING, () => {
      this.options.health.set('kafka', false, 'rebalancing');
      this.log.info('group rebalancing');
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      this.options.health.set('kafka', false, `consumer crashed: ${payload.error.message}`);
      if (payload.restart) {
        this.log.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      this.log.error({ err: payload.error }, 'consumer crashed and will not restart');
      this.handler?.onCrash(new EnricherError('KAFKA_CONSUMER_CRASHED', payload.error.message, { cause: payload.error }));
    });
    this.consumer.on(events.STOP, () => this.options.health.set('kafka', false, 'stopped'));
  }

  /** Connects, subscribes and starts consuming; retries while brokers are unreachable. */
  async start(handler: SourceHandler, signal: AbortSignal): Promise<void> {
    this.handler = handler;
    await retry(
      async () => {
        try {
          await this.admin.connect();
          await this.consumer.connect();
          await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: this.options.fromBeginning });
        } catch (err) {
          throw new EnricherError('KAFKA_UNAVAILABLE', `cannot connect or subscribe to ${this.options.topic}: ${(err as Error).message}`, {
            cause: err,
            context: { topic: this.options.topic },
          });
        }
      },
      {
        ...this.options.backoff,
        signal,
        onRetry: (err, attempt, delayMs) => this.log.warn({ message: (err as Error).message, attempt, retryInMs: delayMs }, 'Kafka unreachable or input topic missing; retrying'),
      },
    );
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private async eachBatch({ batch, resolveOffset, isRunning, isStale, heartbeat }: EachBatchPayload): Promise<void> {
    if (batch.topic !== this.options.topic) return;
    this.options.metrics.fetchBatchSize.observe(batch.messages.length);
    // A batch fetched under a previous generation for a partition we lost: ignore it.
    if (!this.assignedSet.has(batch.partition) || this.held.has(batch.partition)) return;
    try {
      await this.handler?.onBatch({
        partition: batch.partition,
        messages: batch.messages,
        highWatermark: batch.highWatermark,
        resolveOffset,
        usable: () => this.running && isRunning() && !isStale() && this.assignedSet.has(batch.partition) && !this.held.has(batch.partition),
        heartbeat,
      });
    } catch (err) {
      // Never let an exception reach kafkajs (it would restart the consumer): it is a bug.
      this.log.error({ err, partition: batch.partition }, 'batch handler failed');
      this.handler?.onCrash(
        new EnricherError('KAFKA_CONSUMER_CRASHED', `batch handler failed: ${(err as Error).message}`, {
          cause: err,
          context: { topic: batch.topic, partition: batch.partition },
        }),
      );
    }
  }

  /** Pauses every owned partition while on (queue full), resumes them when off. */
  setBackpressure(on: boolean): void {
    if (this.backpressure === on) return;
    this.backpressure = on;
    if (on) this.options.metrics.pauses.inc();
    else this.options.metrics.resumes.inc();
    this.log.debug({ backpressure: on }, on ? 'queue full: pausing partitions' : 'queue drained: resuming partitions');
    this.syncPauses();
  }

  get backpressured(): boolean {
    return this.backpressure;
  }

  /** Keeps a partition paused until `unhold` (exactly-once fencing, partition restarts). */
  hold(partition: number): void {
    this.held.add(partition);
    this.syncPauses();
  }

  unhold(partition: number): void {
    this.held.delete(partition);
    this.syncPauses();
  }

  private syncPauses(): void {
    if (!this.running) return;
    const topic = this.options.topic;
    const toPause: number[] = [];
    const toResume: number[] = [];
    for (const p of this.assignedSet) {
      const want = this.backpressure || this.held.has(p);
      if (want && !this.pausedNow.has(p)) toPause.push(p);
      if (!want && this.pausedNow.has(p)) toResume.push(p);
    }
    for (const p of [...this.pausedNow]) if (!this.assignedSet.has(p)) this.pausedNow.delete(p);
    try {
      if (toPause.length > 0) this.consumer.pause([{ topic, partitions: toPause }]);
      if (toResume.length > 0) this.consumer.resume([{ topic, partitions: toResume }]);
      for (const p of toPause) this.pausedNow.add(p);
      for (const p of toResume) this.pausedNow.delete(p);
    } catch (err) {
      // Before the first join kafkajs has no consumer group to pause; GROUP_JOIN re-syncs.
      this.log.debug({ err }, 'pause/resume deferred');
    }
    this.options.metrics.pausedPartitions.set(this.pausedNow.size);
  }

  /** Sets the fetch position of an owned partition (applied at its next fetch). */
  seek(partition: number, offset: number): void {
    this.consumer.seek({ topic: this.options.topic, partition, offset: String(offset) });
  }

  /** The group's committed offset of a partition, read from the broker; undefined when none. */
  async committed(partition: number, signal: AbortSignal): Promise<number | undefined> {
    return retry(
      async () => {
        try {
          const res = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [this.options.topic] });
          const off = res[0]?.partitions.find((p) => p.partition === partition)?.offset;
          const n = off === undefined ? -1 : Number(off);
          return n >= 0 ? n : undefined;
        } catch (err) {
          throw new EnricherError('KAFKA_UNAVAILABLE', `cannot read committed offsets: ${(err as Error).message}`, {
            cause: err,
            context: { topic: this.options.topic, partition },
          });
        }
      },
      { ...this.options.backoff, signal },
    );
  }

  /**
   * Commits offsets (Kafka semantics: next offset to read) of partitions this member owns;
   * others are skipped — their new owner commits them. Failures are reported, not thrown:
   * the next commit carries the same or higher offsets.
   */
  async commit(offsets: ReadonlyMap<number, number>): Promise<boolean> {
    const partitions = [...offsets].filter(([p]) => this.assignedSet.has(p));
    if (partitions.length === 0) return true;
    try {
      await this.consumer.commitOffsets(partitions.map(([partition, offset]) => ({ topic: this.options.topic, partition, offset: String(offset) })));
      this.options.metrics.commits.inc({ outcome: 'ok' });
      return true;
    } catch (err) {
      this.options.metrics.commits.inc({ outcome: 'failed' });
      this.log.warn({ err, offsets: Object.fromEntries(partitions) }, 'offset commit failed; the next commit retries');
      return false;
    }
  }

  /** Stops fetching and leaves the group (the committed offsets stay). Idempotent. */
  async disconnect(): Promise<void> {
    this.running = false;
    this.options.health.set('kafka', false, 'disconnected');
    try {
      await this.consumer.disconnect();
    } finally {
      await this.admin.disconnect().catch((err: unknown) => this.log.warn({ err }, 'admin disconnect failed'));
    }
  }
}
