import { Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import { EnricherError, isEnricherError } from '../errors.js';
import type { Logger } from '../logger.js';
import { retry, type BackoffOptions } from '../retry.js';
import type { HealthState } from './health.js';
import type { PipelineMetrics } from './metrics.js';
import { chunkRecords, type OutRecord } from './records.js';

/** A record and the topic it goes to (output or dead-letter). */
export interface TopicRecord {
  readonly topic: string;
  readonly record: OutRecord;
  readonly bytes: number;
}

export interface KafkaSinkOptions {
  readonly exactlyOnce: boolean;
  readonly groupId: string;
  readonly transactionalIdPrefix: string;
  readonly maxMessageBytes: number;
  readonly backoff: BackoffOptions;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly health: HealthState;
}

/** Protocol error types in a kafkajs error and its causes (kafkajs nests them on retries). */
export function kafkaErrorTypes(err: unknown): string[] {
  const types: string[] = [];
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e !== null && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const o = e as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof o.type === 'string') types.push(o.type);
    e = o.originalError ?? o.cause;
  }
  return types;
}

const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** Whether a kafkajs error means another producer took over our transactional id. */
export function isFenced(err: unknown): boolean {
  return kafkaErrorTypes(err).some((t) => FENCED_TYPES.has(t));
}

/**
 * Transactional id of an input partition's producer (exactly-once mode). One id per input
 * topic-partition — the pattern kafkajs supports (its `sendOffsets` carries no consumer
 * generation, so KIP-447 fencing by group generation is not available): whoever is
 * assigned the partition initialises this id, which fences the previous owner and
 * completes or aborts its open transaction before the new owner reads the committed offset.
 */
export function transactionalId(prefix: string, groupId: string, topic: string, partition: number): string {
  return `${prefix}.${groupId}.${topic}.${partition}`;
}

function toMessages(records: readonly TopicRecord[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const { topic, record } of records) {
    let t = byTopic.get(topic);
    if (t === undefined) {
      t = { topic, messages: [] };
      byTopic.set(topic, t);
    }
    t.messages.push({ key: record.key, value: record.value, headers: { ...record.headers } });
  }
  return [...byTopic.values()];
}

/**
 * Produces enriched records to the output topic and failures to the dead-letter topic.
 * At-least-once: one idempotent producer (acks=all, one request in flight, so records keep
 * their order per output partition). Exactly-once: one transactional producer per input
 * partition; each sink round's records and the partition's next offset go in one transaction.
 */
export class KafkaSink {
  private producer: Producer | undefined;
  private readonly txn = new Map<string, Producer>();
  private readonly log: Logger;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaSinkOptions,
  ) {
    this.log = options.logger.child({ component: 'kafka-sink' });
  }

  private newProducer(transactionalIdValue?: string): Producer {
    return this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      ...(transactionalIdValue !== undefined ? { transactionalId: transactionalIdValue } : {}),
    });
  }

  /** Connects the at-least-once producer (exactly-once producers connect per partition). */
  async connect(signal: AbortSignal): Promise<void> {
    if (this.options.exactlyOnce) {
      this.options.health.set('producer', true);
      return;
    }
    await this.withRetry('connect', signal, async () => {
      const p = this.newProducer();
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => undefined);
        throw err;
      }
      this.producer = p;
    });
    this.options.health.set('producer', true);
  }

  private withRetry<T>(stage: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return retry(
      async () => {
        try {
          return await fn();
        } catch (err) {
          throw isEnricherError(err) ? err : new EnricherError('KAFKA_PRODUCE_FAILED', `${stage}: ${(err as Error).message}`, { cause: err });
        }
      },
      {
        ...this.options.backoff,
        signal,
        onRetry: (err, attempt, delayMs) => {
          const e = err as EnricherError;
          this.options.metrics.retries.inc({ stage: `kafka-${stage}`, code: e.code });
          if (this.options.health.set('producer', false, e.message)) this.log.error({ err: e, code: e.code }, `Kafka ${stage} failed; retrying`);
          else this.log.warn({ code: e.code, message: e.message, attempt, retryInMs: delayMs }, `Kafka ${stage} still failing`);
        },
      },
    );
  }

  /**
   * At-least-once: sends records in order, in requests of at most kafka.maxMessageBytes,
   * retrying until acknowledged or aborted. After a failure the producer is replaced (a
   * kafkajs idempotent producer does not recover its sequence numbers).
   */
  async send(records: readonly TopicRecord[], signal: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    for (const chunk of chunkRecords(records, this.options.maxMessageBytes)) {
      await this.withRetry('produce', signal, async () => {
        if (this.producer === undefined) {
          const p = this.newProducer();
          await p.connect();
          this.producer = p;
        }
        const end = this.options.metrics.produceSeconds.startTimer();
        try {
          await this.producer.sendBatch({ topicMessages: toMessages(chunk), acks: -1 });
        } catch (err) {
          const broken = this.producer;
          this.producer = undefined;
          await broken.disconnect().catch(() => undefined);
          throw err;
        } finally {
          end();
        }
      });
    }
    if (this.options.health.set('producer', true)) this.log.info('Kafka producer healthy again');
  }

  /**
   * Exactly-once: takes over the partition's transactional id. Initialising the id fences a
   * previous owner and waits until its open transaction is committed or aborted, so the
   * committed offset read afterwards is final.
   */
  async fence(topic: string, partition: number, signal: AbortSignal): Promise<void> {
    const id = transactionalId(this.options.transactionalIdPrefix, this.options.groupId, topic, partition);
    await this.release(topic, partition);
    await this.withRetry('fence', signal, async () => {
      const p = this.newProducer(id);
      try {
        await p.connect();
        const t = await p.transaction(); // InitProducerId: bumps the epoch, fencing the previous owner
        await t.abort(); // nothing was added: kafkajs sends no EndTxn
      } catch (err) {
        await p.disconnect().catch(() => undefined);
        throw err;
      }
      this.txn.set(`${topic}:${partition}`, p);
    });
    this.log.debug({ topic, partition, transactionalId: id }, 'transactional id initialised');
  }

  /**
   * Exactly-once: one transaction with the round's records of one input partition and the
   * partition's next offset for the consumer group. Throws KAFKA_PRODUCER_FENCED when another
   * producer owns the id, KAFKA_PRODUCE_FAILED otherwise; either way the transaction is
   * aborted or unknown, and the caller restarts the partition from its committed offset.
   */
  async transact(topic: string, partition: number, records: readonly TopicRecord[], nextOffset: number): Promise<void> {
    const p = this.txn.get(`${topic}:${partition}`);
    if (p === undefined) {
      throw new EnricherError('KAFKA_PRODUCE_FAILED', `no transactional producer for ${topic}:${partition}`, { context: { topic, partition } });
    }
    const end = this.options.metrics.produceSeconds.startTimer();
    let t;
    try {
      t = await p.transaction();
      for (const chunk of chunkRecords(records, this.options.maxMessageBytes)) await t.sendBatch({ topicMessages: toMessages(chunk), acks: -1 });
      await t.sendOffsets({
        consumerGroupId: this.options.groupId,
        topics: [{ topic, partitions: [{ partition, offset: String(nextOffset) }] }],
      });
      await t.commit();
      if (this.options.health.set('producer', true)) this.log.info('Kafka producer healthy again');
    } catch (err) {
      if (t?.isActive() === true) await t.abort().catch(() => undefined);
      await this.release(topic, partition);
      const fenced = isFenced(err);
      const e = new EnricherError(fenced ? 'KAFKA_PRODUCER_FENCED' : 'KAFKA_PRODUCE_FAILED', `transaction for ${topic}:${partition}: ${(err as Error).message}`, {
        cause: err,
        context: { topic, partition },
      });
      if (!fenced) this.options.health.set('producer', false, e.message);
      throw e;
    } finally {
      end();
    }
  }

  /** Exactly-once: drops a partition's producer (revoked, fenced, or failed). */
  async release(topic: string, partition: number): Promise<void> {
    const key = `${topic}:${partition}`;
    const p = this.txn.get(key);
    if (p === undefined) return;
    this.txn.delete(key);
    try {
      await p.disconnect();
    } catch (err) {
      this.log.warn({ err, topic, partition }, 'disconnecting a transactional producer failed');
    }
  }

  /** Disconnects every producer. Idempotent. */
  async close(): Promise<void> {
    const all = [...this.txn.keys()];
    for (const key of all) {
      const [topic, partition] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      await this.release(topic, partition);
    }
    const p = this.producer;
    this.producer = undefined;
    if (p !== undefined) {
      try {
        await p.disconnect();
      } catch (err) {
        this.log.warn({ err }, 'disconnecting the producer failed');
      }
    }
  }
}
