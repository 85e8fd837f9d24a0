/**
 * Kafka helpers for integration tests: unique names, topic creation that waits for leaders,
 * produce helpers and a deadline-bounded `consumeAll`.
 */
import { randomBytes } from 'node:crypto';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type IHeaders,
  type Message,
  type RecordMetadata,
} from 'kafkajs';
import { inject } from 'vitest';
import { waitFor } from './wait-for.js';

/** `<prefix>-<time36>-<8 hex>`: unique per call, valid as a topic, group or transactional id. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A fresh topic name, e.g. `it-articles-m3k2x1-9f3a01bc`. */
export const uniqueTopic = (label = 'topic'): string => uniqueName(`it-${label}`);
/** A fresh consumer group id. */
export const uniqueGroupId = (label = 'group'): string => uniqueName(`it-${label}`);

/** Broker list from the global setup (`inject`) or `KAFKA_BROKERS`; throws with advice when absent. */
export function kafkaBrokers(): string[] {
  const raw = inject('kafkaBrokers') ?? process.env['KAFKA_BROKERS'];
  const brokers = (raw ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) {
    throw new Error(
      'No Kafka: set KAFKA_BROKERS, or run through vitest with test/setup/global-services.ts as globalSetup',
    );
  }
  return brokers;
}

let shared: Kafka | undefined;

const LOG_LEVELS: Readonly<Record<string, logLevel>> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/**
 * KafkaJS log level for test clients: `TEST_KAFKAJS_LOG` (nothing|error|warn|info|debug).
 * Silent by default because KafkaJS logs retried, expected errors (coordinator loading,
 * concurrent transactions) at ERROR; real failures surface as rejections.
 */
function testLogLevel(): logLevel {
  const name = process.env['TEST_KAFKAJS_LOG'] ?? 'nothing';
  const level = LOG_LEVELS[name];
  if (level === undefined) throw new Error(`TEST_KAFKAJS_LOG must be one of ${Object.keys(LOG_LEVELS).join('|')}`);
  return level;
}

/** A KafkaJS client for the test brokers, quick to retry. */
export function createKafka(clientId: string = uniqueName('it-client')): Kafka {
  return new Kafka({
    clientId,
    brokers: kafkaBrokers(),
    logLevel: testLogLevel(),
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

/** One client per test worker, created on first use. */
export function sharedKafka(): Kafka {
  shared ??= createKafka();
  return shared;
}

export interface KafkaOptions {
  /** @defaultValue {@link sharedKafka}() */
  readonly kafka?: Kafka;
}

/** Connects an admin client, runs `fn`, and always disconnects. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>, options: KafkaOptions = {}): Promise<T> {
  const admin = (options.kafka ?? sharedKafka()).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export interface CreateTopicOptions extends KafkaOptions {
  /** @defaultValue 1 */
  readonly partitions?: number;
  /** Topic configs, e.g. `{ 'retention.ms': '60000' }`. */
  readonly config?: Readonly<Record<string, string>>;
  /** @defaultValue 30_000 */
  readonly timeoutMs?: number;
}

/**
 * KafkaJS's own leader wait (`waitForLeaders`) gives up with UNKNOWN_TOPIC_OR_PARTITION when the
 * new topic's metadata reaches the broker after its few quick retries (seen on a loaded 2-core
 * machine). The topic exists by then; the metadata wait below takes over with its own deadline.
 */
function isLateMetadata(error: unknown): boolean {
  return error instanceof Error && (error as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
}

/** Creates a topic and waits until every partition has a leader. Fails if it already exists. */
export async function createTopic(topic: string, options: CreateTopicOptions = {}): Promise<void> {
  const { partitions = 1, config = {}, timeoutMs = 30_000 } = options;
  await withAdmin(async (admin) => {
    const created = await admin
      .createTopics({
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor: 1,
            configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
          },
        ],
        waitForLeaders: true,
        timeout: timeoutMs,
      })
      .catch(async (error: unknown) => {
        if (isLateMetadata(error) && (await admin.listTopics()).includes(topic)) return true;
        throw error;
      });
    if (!created) throw new Error(`topic ${topic} already exists`);
    await waitFor(
      async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const meta = topics[0];
        return meta?.partitions.length === partitions && meta.partitions.every((p) => p.leader >= 0);
      },
      { timeoutMs, description: `topic ${topic} to have ${partitions} partitions with leaders` },
    );
  }, options);
}

/** Deletes topics; missing ones are ignored. For `afterAll` cleanup. */
export async function deleteTopics(topics: readonly string[], options: KafkaOptions = {}): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const doomed = topics.filter((t) => existing.has(t));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 10_000 });
  }, options);
}

/** `count` messages `{ key: '<keyPrefix><i>', value: '<valuePrefix><i>' }`, i = 0…count-1. */
export function textMessages(count: number, keyPrefix = 'k-', valuePrefix = 'v-'): Message[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${keyPrefix}${i}`, value: `${valuePrefix}${i}` }));
}

/** Sends messages with a short-lived idempotent producer (acks=all) and disconnects it. */
export async function produce(
  topic: string,
  messages: readonly Message[],
  options: KafkaOptions = {},
): Promise<RecordMetadata[]> {
  const producer = (options.kafka ?? sharedKafka()).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    return await producer.send({ topic, messages: [...messages], acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/** Sends each document as a JSON value, keyed by `key(doc, i)` when given. */
export function produceJson<T>(
  topic: string,
  docs: readonly T[],
  options: KafkaOptions & { readonly key?: (doc: T, index: number) => string } = {},
): Promise<RecordMetadata[]> {
  const { key } = options;
  return produce(
    topic,
    docs.map((doc, i) => ({ key: key?.(doc, i) ?? null, value: JSON.stringify(doc) })),
    options,
  );
}

/** A consumed record with key, value and headers decoded as UTF-8. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
}

export interface ConsumeAllOptions extends KafkaOptions {
  /** Stop when this many messages arrived, or when the predicate holds. */
  readonly until: number | ((messages: readonly ConsumedMessage[]) => boolean);
  /** @defaultValue 30_000 */
  readonly timeoutMs?: number;
  /** @defaultValue a fresh {@link uniqueGroupId} */
  readonly groupId?: string;
  /** @defaultValue true */
  readonly fromBeginning?: boolean;
  /**
   * `false` reads with isolation level read_committed (KafkaJS default): aborted and open
   * transactions are invisible.
   * @defaultValue false
   */
  readonly readUncommitted?: boolean;
  /** @defaultValue true */
  readonly autoCommit?: boolean;
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = (Array.isArray(value) ? value : [value]).map((v) => v.toString()).join(',');
  }
  return out;
}

/**
 * Consumes `topic` in a consumer group until `until` holds, polling with a deadline; always
 * disconnects. Rejects on timeout (with how many messages arrived) or when the consumer crashes.
 */
export async function consumeAll(topic: string, options: ConsumeAllOptions): Promise<ConsumedMessage[]> {
  const {
    until,
    timeoutMs = 30_000,
    groupId = uniqueGroupId(),
    fromBeginning = true,
    readUncommitted = false,
    autoCommit = true,
  } = options;
  const done = typeof until === 'number' ? (m: readonly ConsumedMessage[]) => m.length >= until : until;
  const received: ConsumedMessage[] = [];
  const crashed = new AbortController();
  const consumer = (options.kafka ?? sharedKafka()).consumer({
    groupId,
    readUncommitted,
    maxWaitTimeInMs: 250,
  });
  // KafkaJS restarts the consumer after retriable crashes (e.g. the group coordinator still loading
  // on a fresh broker); only a crash it will not recover from ends the wait early.
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) crashed.abort(event.payload.error);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning });
    await consumer.run({
      autoCommit,
      eachMessage: async ({ topic: t, partition, message }) => {
        received.push({
          topic: t,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          headers: decodeHeaders(message.headers),
          timestamp: message.timestamp,
        });
      },
    });
    try {
      await waitFor(() => done(received), {
        timeoutMs,
        intervalMs: 50,
        signal: crashed.signal,
        description: `messages on ${topic} (group ${groupId})`,
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`consumeAll(${topic}): ${received.length} message(s) received; ${reason}`, { cause: err });
    }
    return [...received];
  } finally {
    await consumer.disconnect();
  }
}
