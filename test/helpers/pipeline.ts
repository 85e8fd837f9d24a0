/**
 * Integration-test support for the streaming service: unique topics/group/index per test,
 * the service's environment, Elasticsearch and Kafka read-backs. Real services only (from
 * the vitest global setup, through helper-2's test/helpers).
 */
import type { Client } from '@elastic/elasticsearch';
import type { Message } from 'kafkajs';
import { loadConfig } from '../../src/config-load.js';
import type { Config } from '../../src/config.js';
import { elasticsearchUrl, waitFor, type EsResources } from './es.js';
import { createTopic, deleteTopics, kafkaBrokers, sharedKafka, uniqueGroupId, uniqueName, withAdmin, type KafkaOptions } from './kafka.js';
import { REPO_ROOT } from './services.js';

export const TINY_SPAN = `${REPO_ROOT}test/fixtures/models/tiny-span`;

export interface PipelineNames {
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
  readonly group: string;
  readonly index: string;
  readonly txnPrefix: string;
}

export function uniquePipelineNames(label: string): PipelineNames {
  const base = uniqueName(`it-${label}`);
  return { input: `${base}-in`, output: `${base}-out`, dlq: `${base}-dlq`, group: `${base}-g`, index: base.toLowerCase(), txnPrefix: `${base}-tx` };
}

export interface TopicOptions extends KafkaOptions {
  readonly partitions?: number;
  /** Extra configs of the input topic (e.g. a larger max.message.bytes). */
  readonly inputConfig?: Readonly<Record<string, string>>;
}

export async function createPipelineTopics(names: PipelineNames, options: TopicOptions = {}): Promise<void> {
  const partitions = options.partitions ?? 3;
  const kafka = options.kafka ? { kafka: options.kafka } : {};
  await createTopic(names.input, { partitions, ...kafka, ...(options.inputConfig ? { config: options.inputConfig } : {}) });
  await createTopic(names.output, { partitions, ...kafka });
  await createTopic(names.dlq, { partitions: 1, ...kafka });
}

/** Environment for `news-enricher run` (child process) or loadConfig (in process). */
export function serviceEnv(names: PipelineNames, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    MODEL_DIR: TINY_SPAN,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    ELASTICSEARCH_URL: elasticsearchUrl(),
    KAFKA_INPUT_TOPIC: names.input,
    KAFKA_OUTPUT_TOPIC: names.output,
    KAFKA_DLQ_TOPIC: names.dlq,
    KAFKA_GROUP_ID: names.group,
    KAFKA_TRANSACTIONAL_ID_PREFIX: names.txnPrefix,
    ELASTICSEARCH_INDEX: names.index,
    // Quick reactions in tests: short session (faster rebalances), short backoff.
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    ELASTICSEARCH_RETRY_BASE_MS: '100',
    ELASTICSEARCH_RETRY_MAX_MS: '2000',
    ELASTICSEARCH_REQUEST_TIMEOUT_MS: '10000',
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    INFERENCE_WORKERS: '1',
    ...extra,
  };
}

export function serviceConfig(names: PipelineNames, extra: Readonly<Record<string, string>> = {}): Readonly<Config> {
  return loadConfig({ env: serviceEnv(names, extra) });
}

/** Registers what the service creates in Elasticsearch (index and its template) for cleanup. */
export function trackEs(resources: EsResources, names: PipelineNames): void {
  resources.index(names.index);
  resources.indexTemplate(names.index);
}

export async function deletePipelineTopics(names: PipelineNames): Promise<void> {
  await deleteTopics([names.input, names.output, names.dlq]);
}

/** Keyed JSON messages (key = article id). */
export function jsonMessages(docs: ReadonlyArray<{ id: string }>): Message[] {
  return docs.map((d) => ({ key: d.id, value: JSON.stringify(d) }));
}

/** Every document of an index, by `_id` (search_after paging). */
export async function allDocs<T = Record<string, unknown>>(client: Client, index: string): Promise<Map<string, T>> {
  await client.indices.refresh({ index });
  const out = new Map<string, T>();
  let after: unknown[] | undefined;
  for (;;) {
    const res = await client.search<T>({ index, size: 1000, sort: [{ id: 'asc' }] as never, ...(after ? { search_after: after as never } : {}) });
    for (const h of res.hits.hits) out.set(h._id!, h._source as T);
    if (res.hits.hits.length < 1000) return out;
    after = res.hits.hits[res.hits.hits.length - 1]!.sort as unknown[];
  }
}

/** Ids of an index (no sources). */
export async function allIds(client: Client, index: string): Promise<string[]> {
  await client.indices.refresh({ index });
  const ids: string[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const res = await client.search({ index, size: 5000, _source: false, sort: [{ id: 'asc' }] as never, ...(after ? { search_after: after as never } : {}) });
    for (const h of res.hits.hits) ids.push(h._id!);
    if (res.hits.hits.length < 5000) return ids;
    after = res.hits.hits[res.hits.hits.length - 1]!.sort as unknown[];
  }
}

export async function esCount(client: Client, index: string): Promise<number> {
  try {
    await client.indices.refresh({ index });
    return (await client.count({ index })).count;
  } catch {
    return 0;
  }
}

/** The group's committed offsets of a topic, by partition (absent: nothing committed). */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
  const res = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  const out = new Map<number, number>();
  for (const p of res[0]?.partitions ?? []) if (Number(p.offset) >= 0) out.set(p.partition, Number(p.offset));
  return out;
}

/**
 * Keys of every record of a topic for a read_committed consumer: reads until `min` records
 * arrived and then `quietMs` passed without more (duplicates, if any, are already in the log).
 */
export async function readCommittedKeys(topic: string, min: number, quietMs = 3000): Promise<string[]> {
  const keys: string[] = [];
  let last = Date.now();
  const consumer = sharedKafka().consumer({ groupId: uniqueGroupId('read'), readUncommitted: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        keys.push(message.key?.toString() ?? '');
        last = Date.now();
      },
    });
    await waitFor(() => keys.length >= min && Date.now() - last >= quietMs, { timeoutMs: 90_000, intervalMs: 100, description: `${min} records on ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return keys;
}
