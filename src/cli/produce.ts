import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Partitioners, type Message } from 'kafkajs';
import { pino } from 'pino';
import { loadConfig } from '../config-load.js';
import { EnricherError, isEnricherError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createKafka, KAFKA_CONNECT_TIMEOUT_MS } from '../pipeline/kafka-client.js';
import { openInput } from './byte-lines.js';
import { parseFlags, usage, type FlagSpec } from './flags.js';

const PRODUCE_FLAGS = {
  config: { type: 'string', path: undefined, help: 'JSON/YAML config file (default $CONFIG_FILE)' },
  topic: { type: 'string', path: undefined, help: 'topic to publish to (required)' },
  brokers: { type: 'string', path: 'kafka.brokers', help: 'Kafka bootstrap brokers, comma-separated (default $KAFKA_BROKERS)' },
  input: { type: 'string', path: undefined, help: 'JSONL file to read (default: stdin)' },
  'log-level': { type: 'string', path: 'logLevel', help: 'fatal | error | warn | info | debug | trace | silent' },
  help: { type: 'boolean', path: undefined, help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

export const PRODUCE_USAGE = `news-enricher produce --topic T [--brokers B] [--input FILE]

Publishes one record per non-empty line. The key is the line's "id" when the line is a JSON
object with a string id, else no key. Lines are sent as they are (bytes included), so invalid
lines reach the topic too — useful to show the dead-letter topic.

${usage(PRODUCE_FLAGS)}`;

/** Records per produce request. */
const CHUNK = 200;

/** The key of a line: its JSON `id` when it has one. */
export function keyOfLine(line: string): string | null {
  try {
    const v = JSON.parse(line) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const id = (v as { id?: unknown }).id;
      if (typeof id === 'string' && id !== '') return id;
    }
  } catch {
    // Not JSON: published as it is, without a key.
  }
  return null;
}

/**
 * A failure of kafkajs as one coded error: brokers not reachable (connection refused, DNS,
 * timeouts, retries exhausted on them) is KAFKA_UNAVAILABLE, the rest KAFKA_PRODUCE_FAILED.
 */
export function kafkaFailure(err: unknown, brokers: readonly string[]): EnricherError {
  if (isEnricherError(err)) return err;
  const chain: string[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 5; e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError) {
    chain.push(e.name);
  }
  const unreachable = chain.some((n) => n === 'KafkaJSConnectionError' || n === 'KafkaJSBrokerNotFound' || n === 'KafkaJSRequestTimeoutError' || n === 'KafkaJSConnectionClosedError');
  const message = err instanceof Error ? err.message : String(err);
  return unreachable
    ? new EnricherError('KAFKA_UNAVAILABLE', `cannot reach the Kafka brokers ${brokers.join(',')}: ${message}`, { cause: err })
    : new EnricherError('KAFKA_PRODUCE_FAILED', `producing failed: ${message}`, { cause: err });
}

/** Resolves, or rejects with `onTimeout()` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `news-enricher produce`: JSONL lines → records on a topic. */
export async function produceCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, PRODUCE_FLAGS);
  if (flags.values.help === true) {
    process.stdout.write(`${PRODUCE_USAGE}\n`);
    return 0;
  }
  const topic = flags.values.topic;
  if (typeof topic !== 'string' || topic === '') throw new EnricherError('CONFIG_INVALID', `--topic is required\n${PRODUCE_USAGE}`);
  const config = loadConfig({
    ...(typeof flags.values.config === 'string' ? { file: flags.values.config } : {}),
    overrides: flags.overrides,
  });
  const input: Readable = typeof flags.values.input === 'string' ? await openInput(flags.values.input, '--input') : process.stdin;
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  // This command reports its own failure in one coded line; kafkajs' retry-by-retry error
  // lines (with stacks) only show when asked for with LOG_LEVEL=debug or trace.
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace';
  const clientLogger = verbose ? logger : logger.child({}, { level: 'silent' });
  const kafka = createKafka(config, clientLogger, '-produce');
  const brokers = config.kafka.brokers;

  // Reachability first, bounded by the connect timeout (one attempt per broker), so an
  // unreachable cluster is one line within seconds rather than a producer retrying for minutes.
  const probe = createKafka(config, clientLogger, '-produce', { retries: brokers.length - 1, initialRetryTime: 100, maxRetryTime: 500 });
  const admin = probe.admin();
  const limitMs = KAFKA_CONNECT_TIMEOUT_MS * brokers.length + 1_000;
  try {
    await within(admin.connect(), limitMs, () => new EnricherError('KAFKA_UNAVAILABLE', `no Kafka broker of ${brokers.join(',')} answered within ${limitMs} ms`));
  } catch (err) {
    throw kafkaFailure(err, brokers);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
  });
  let count = 0;
  try {
    await producer.connect();
    let batch: Message[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await producer.send({ topic, messages: batch, acks: -1 });
      count += batch.length;
      batch = [];
    };
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      batch.push({ key: keyOfLine(line), value: line });
      if (batch.length >= CHUNK) await flush();
    }
    await flush();
  } catch (err) {
    throw kafkaFailure(err, brokers);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  process.stdout.write(`${JSON.stringify({ topic, produced: count })}\n`);
  return 0;
}
