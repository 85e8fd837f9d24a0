import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Partitioners, type Message } from 'kafkajs';
import { pino } from 'pino';
import { loadConfig } from '../config-load.js';
import { EnricherError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createKafka } from '../pipeline/kafka-client.js';
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
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const producer = createKafka(config, logger, '-produce').producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
  });
  await producer.connect();
  let count = 0;
  try {
    const input = typeof flags.values.input === 'string' ? createReadStream(flags.values.input) : process.stdin;
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
  } finally {
    await producer.disconnect();
  }
  process.stdout.write(`${JSON.stringify({ topic, produced: count })}\n`);
  return 0;
}
