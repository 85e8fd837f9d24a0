import { setMaxListeners } from 'node:events';
import type { Config } from '../config.js';
import { EnricherError, isEnricherError, toEnricherError, withContext } from '../errors.js';
import type { EntityExtractor } from '../core/extraction.js';
import { effectiveConcurrency } from '../inference/options.js';
import type { Logger } from '../logger.js';
import type { BackoffOptions } from '../retry.js';
import { ArticleProcessor, ProcessingStopped } from './article-processor.js';
import type { EsSink } from './es-sink.js';
import type { HealthState } from './health.js';
import type { KafkaSink } from './kafka-sink.js';
import { PartitionLane, type Entry } from './lane.js';
import { Limiter } from './limiter.js';
import type { PipelineMetrics } from './metrics.js';
import { parseOffset } from './offset-tracker.js';
import { PartitionTakeover } from './partition-takeover.js';
import { runSinkRound, type SinkRoundDeps } from './sink-round.js';
import type { Source, SourceBatch, SourceHandler } from './source.js';

export interface PipelineOptions {
  readonly config: Readonly<Config>;
  readonly extractor: EntityExtractor;
  readonly es: EsSink;
  readonly kafka: KafkaSink;
  readonly source: Source;
  readonly metrics: PipelineMetrics;
  readonly health: HealthState;
  readonly logger: Logger;
  readonly version: string;
  readonly backoff: BackoffOptions;
  /** Called once when the pipeline cannot go on (model broken, consumer dead). */
  readonly onFatal: (error: EnricherError) => void;
}

/** How often offsets that changed are committed even without new sink rounds. */
const COMMIT_INTERVAL_MS = 5_000;


/**
 * The orchestration. One message's route, in the order of this file:
 *
 *   source → `onBatch` (admit into its partition's lane; bounded by queueMaxArticles, pausing
 *   the source when full and resuming below half) → `startProcessing` → `ArticleProcessor.process`
 *   (decode → extract → build the output record; bounded concurrency) → `flushLoop` (finished
 *   messages in offset order) → `runSinkRound` (Elasticsearch, then output/DLQ topic) → `commit`.
 *
 * The lane (`lane.ts`) only holds a partition's messages in offset order and its offset tracker.
 */
export class Pipeline implements SourceHandler {
  private readonly lanes = new Map<number, PartitionLane>();
  /** First offset admitted per partition since it was assigned (restart target when nothing is committed). */
  private readonly firstSeen = new Map<number, number>();
  private readonly force = new AbortController();
  private readonly processor: ArticleProcessor;
  private readonly roundDeps: SinkRoundDeps;
  private readonly takeover: PartitionTakeover;
  private readonly log: Logger;
  private readonly highWater: number;
  private readonly lowWater: number;
  private admitting = true;
  private flushStop = false;
  private wake: (() => void) | undefined;
  private flusher: Promise<void> | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private failed = false;
  private readonly drainWaiters = new Set<() => void>();
  private readonly roomWaiters = new Set<() => void>();

  constructor(private readonly o: PipelineOptions) {
    const { config } = o;
    this.log = o.logger.child({ component: 'pipeline' });
    setMaxListeners(0, this.force.signal); // one listener per lane and per waiting retry
    this.highWater = config.queueMaxArticles;
    this.lowWater = Math.floor(config.queueMaxArticles / 2);
    o.metrics.trackInFlight(() => this.inFlight);
    this.processor = new ArticleProcessor({
      config,
      extractor: o.extractor,
      limiter: new Limiter(effectiveConcurrency(config)),
      metrics: o.metrics,
      logger: o.logger,
      version: o.version,
      backoff: o.backoff,
    });
    this.roundDeps = {
      es: o.es,
      kafka: o.kafka,
      inputTopic: config.kafka.inputTopic,
      outputTopic: config.kafka.outputTopic,
      dlqTopic: config.kafka.dlqTopic,
      maxMessageBytes: config.kafka.maxMessageBytes,
      exactlyOnce: config.kafka.exactlyOnce,
      versionEpoch: config.elasticsearch.versionEpoch,
      metrics: o.metrics,
      log: this.log,
      restartLane: (lane, err) => this.restartLane(lane, err),
    };
    const topic = config.kafka.inputTopic;
    this.takeover = new PartitionTakeover({
      topic,
      source: o.source,
      kafka: o.kafka,
      signal: this.force.signal,
      log: this.log,
      hasLane: (p) => this.lanes.has(p),
      createLane: (p, start) => void this.lanes.set(p, new PartitionLane(topic, p, this.force.signal, start)),
      firstSeen: (p) => this.firstSeen.get(p),
      fail: (e) => this.fail(e),
    });
  }

  /** Messages admitted and not yet done, over all owned partitions. */
  get inFlight(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.size;
    return n;
  }

  /**
   * Work known to be waiting: messages in flight plus, per partition, messages between the
   * done offset and the last high watermark seen. A consumer that silently stops fetching
   * (a known kafkajs failure) keeps this above zero without progress, which /healthz reports.
   */
  get backlog(): number {
    let n = this.inFlight;
    for (const lane of this.lanes.values()) {
      const hw = lane.highWatermark;
      const done = lane.tracker.committable() ?? lane.nextOffset;
      if (hw !== undefined && done !== undefined) n += Math.max(0, hw - done - lane.size);
    }
    return n;
  }

  /** Starts the sink loop and the commit timer (before the source starts delivering). */
  start(): void {
    this.flusher ??= this.flushLoop();
    if (!this.o.config.kafka.exactlyOnce) {
      this.commitTimer = setInterval(() => void this.commit([...this.lanes.values()]), COMMIT_INTERVAL_MS);
      this.commitTimer.unref();
    }
  }

  // ---- SourceHandler ------------------------------------------------------------------------

  async onBatch(batch: SourceBatch): Promise<void> {
    const { partition } = batch;
    let lane = this.lanes.get(partition);
    if (lane === undefined) {
      if (this.o.config.kafka.exactlyOnce) return; // still fencing: kafkajs refetches after the seek
      lane = new PartitionLane(this.o.config.kafka.inputTopic, partition, this.force.signal);
      this.lanes.set(partition, lane);
    }
    lane.highWatermark = Number(batch.highWatermark);
    const labels = { topic: lane.topic, partition: String(partition) };
    for (const m of batch.messages) {
      if (!this.admitting || lane.revoked || !batch.usable()) break;
      const offset = parseOffset(m.offset);
      if (lane.nextOffset !== undefined && offset < lane.nextOffset) {
        batch.resolveOffset(m.offset); // admitted before a rebalance made kafkajs refetch it
        continue;
      }
      if (this.inFlight >= this.highWater) {
        this.o.source.setBackpressure(true);
        // Keep the batch and wait for room (heartbeating) rather than dropping and refetching it.
        if (!(await this.waitForRoom(batch, lane))) break;
        if (!this.admitting || lane.revoked || !batch.usable()) break;
      }
      if (!this.firstSeen.has(partition)) this.firstSeen.set(partition, offset);
      // Copies: kafkajs values are slices of the whole fetch response, which must not stay alive.
      const entry = lane.admit(offset, m.key ? Buffer.from(m.key) : null, m.value ? Buffer.from(m.value) : null);
      batch.resolveOffset(m.offset);
      this.o.metrics.messagesIn.inc(labels);
      this.startProcessing(entry);
    }
    this.updateGauges(lane);
  }

  /** Waits until the queue drained below the low-water mark; false when admission should stop instead. */
  private async waitForRoom(batch: SourceBatch, lane: PartitionLane): Promise<boolean> {
    const beat = Math.max(100, Math.floor(this.o.config.kafka.heartbeatIntervalMs / 2));
    while (this.o.source.backpressured) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, beat);
        this.roomWaiters.add(done);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
      if (!this.admitting || lane.revoked || !batch.usable()) return false;
      try {
        await batch.heartbeat();
      } catch (err) {
        // A rebalance started: give control back to kafkajs, which rejoins the group.
        this.log.debug({ err, partition: lane.partition }, 'heartbeat failed while waiting for room');
        return false;
      }
    }
    return true;
  }

  onAssignment({ added, revoked, retained }: { added: number[]; revoked: number[]; retained: number[] }): void {
    for (const p of revoked) {
      const lane = this.lanes.get(p);
      if (lane !== undefined) {
        this.log.info({ partition: p, abandoned: lane.size }, 'partition revoked: abandoning its pending work');
        lane.revoke('partition revoked');
        this.lanes.delete(p);
      }
      this.firstSeen.delete(p);
      this.o.metrics.consumerLag.remove({ topic: this.o.config.kafka.inputTopic, partition: String(p) });
      if (this.o.config.kafka.exactlyOnce) void this.o.kafka.release(this.o.config.kafka.inputTopic, p);
    }
    // kafkajs may not have delivered our last commit under the old generation: commit again.
    for (const p of retained) {
      const lane = this.lanes.get(p);
      if (lane !== undefined) lane.committedOffset = undefined;
    }
    if (this.o.config.kafka.exactlyOnce) for (const p of added) void this.takeover.takeOver(p);
    this.updateBackpressure();
    this.drained();
  }

  onCrash(error: EnricherError): void {
    this.fail(error);
  }

  // ---- processing ---------------------------------------------------------------------------

  private startProcessing(entry: Entry): void {
    const source = { topic: entry.lane.topic, partition: entry.lane.partition, offset: String(entry.offset) };
    this.processor.process(entry.key, entry.value, entry.lane.signal, source).then(
      (outcome) => {
        if (entry.lane.revoked) return;
        entry.outcome = outcome;
        this.kick();
      },
      (err: unknown) => {
        if (err instanceof ProcessingStopped && err.fate.kind === 'abandon') return;
        // The processor turns every problem of the message into a `dead` outcome; what reaches
        // here is about the service (model, workers) or a bug, and is reported as such.
        const error = err instanceof ProcessingStopped ? err.fate.error : withContext(toEnricherError(err, 'INTERNAL'), source);
        this.fail(error);
      },
    );
  }

  /** Exactly-once: a transaction failed; drop the lane's work and start over from the committed offset. */
  private restartLane(lane: PartitionLane, err: unknown): void {
    const fenced = isEnricherError(err, 'KAFKA_PRODUCER_FENCED');
    this.log.warn({ err, partition: lane.partition, abandoned: lane.size }, fenced ? 'fenced by another producer' : 'transaction failed; restarting the partition');
    lane.revoke('transaction failed');
    if (this.lanes.get(lane.partition) === lane) this.lanes.delete(lane.partition);
    this.updateBackpressure();
    // A fence may mean we are the stale member: give the group time to tell us before taking the id back.
    void this.takeover.takeOver(lane.partition, fenced ? this.o.config.kafka.sessionTimeoutMs / 3 : 0);
  }

  // ---- sinks and commits ---------------------------------------------------------------------

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private collect(): Entry[] {
    const out: Entry[] = [];
    for (const lane of this.lanes.values()) out.push(...lane.takeReady());
    return out;
  }

  private async flushLoop(): Promise<void> {
    for (;;) {
      if (this.force.signal.aborted) return;
      const entries = this.collect();
      if (entries.length === 0) {
        if (this.flushStop) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
        continue;
      }
      try {
        const lanes = await runSinkRound(entries, this.roundDeps, this.force.signal);
        if (!this.o.config.kafka.exactlyOnce) await this.commit(lanes);
        this.o.health.progress();
        this.o.metrics.lastProgress.setToCurrentTime();
      } catch (err) {
        if (this.force.signal.aborted) return;
        // Sinks classify their own failures (retried, dead-lettered or coded); anything else is a bug.
        const partitions = [...new Set(entries.map((e) => e.lane.partition))];
        this.fail(withContext(toEnricherError(err, 'INTERNAL'), { topic: this.o.config.kafka.inputTopic, partitions }));
        return;
      }
      for (const lane of this.lanes.values()) this.updateGauges(lane);
      this.updateBackpressure();
      this.drained();
    }
  }

  /** Commits every owned partition's done offset (shutdown). */
  commitAll(): Promise<void> {
    return this.commit([...this.lanes.values()]);
  }

  /** Commits the trackers' offsets of lanes that moved (at-least-once mode). */
  async commit(lanes: readonly PartitionLane[]): Promise<void> {
    if (this.o.config.kafka.exactlyOnce) return;
    const offsets = new Map<number, number>();
    for (const lane of lanes) {
      const off = lane.tracker.committable();
      if (!lane.revoked && off !== undefined && off !== lane.committedOffset) offsets.set(lane.partition, off);
    }
    if (offsets.size === 0) return;
    if (await this.o.source.commit(offsets)) {
      for (const lane of lanes) {
        const off = offsets.get(lane.partition);
        if (off !== undefined) lane.committedOffset = off;
      }
    }
  }

  private updateBackpressure(): void {
    const n = this.inFlight;
    if (this.admitting && this.o.source.backpressured && n <= this.lowWater) {
      this.o.source.setBackpressure(false);
      this.wakeRoomWaiters();
    }
  }

  private updateGauges(lane: PartitionLane): void {
    const hw = lane.highWatermark;
    if (hw === undefined) return;
    const done = lane.tracker.committable() ?? lane.nextOffset ?? hw;
    this.o.metrics.consumerLag.set({ topic: lane.topic, partition: String(lane.partition) }, Math.max(0, hw - done));
  }

  // ---- stopping -----------------------------------------------------------------------------

  private wakeRoomWaiters(): void {
    for (const w of this.roomWaiters) w();
    this.roomWaiters.clear();
  }

  private drained(): void {
    if (this.inFlight > 0) return;
    for (const w of this.drainWaiters) w();
    this.drainWaiters.clear();
  }

  /** Stops admitting and pauses the source; resolves true once everything admitted is done. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.admitting = false;
    this.o.source.setBackpressure(true);
    this.wakeRoomWaiters();
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((resolve) => this.drainWaiters.add(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return done;
  }

  /** Ends the sink loop: gracefully (after the current round) or by aborting all work. */
  async stop(force: boolean): Promise<void> {
    this.admitting = false;
    this.flushStop = true;
    if (force) this.force.abort(new EnricherError('ABORTED', 'forced stop'));
    clearInterval(this.commitTimer);
    this.kick();
    await this.flusher;
  }

  /** Reports a fatal error once; the service stops without committing past unfinished work. */
  private fail(error: EnricherError): void {
    if (this.failed) return;
    this.failed = true;
    this.admitting = false;
    this.wakeRoomWaiters();
    this.log.fatal({ err: error, code: error.code }, 'pipeline cannot continue');
    this.o.onFatal(error);
  }
}
