/**
 * Poison messages mixed among good ones: exactly the poison reaches the dead-letter topic,
 * with the original key and value bytes and the documented headers; every good article
 * arrives in Elasticsearch and on the output topic; the offsets move past the poison.
 */
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { EnricherService } from '../../src/pipeline/service.js';
import { createEsClient, EsResources, waitFor } from '../helpers/es.js';
import { consumeAll, produce, type ConsumedMessage } from '../helpers/kafka.js';
import { generateArticles } from '../helpers/news.js';
import { allIds, committedOffsets, createPipelineTopics, deletePipelineTopics, serviceConfig, trackEs, uniquePipelineNames } from '../helpers/pipeline.js';

const GOOD = 40;
const BIG = 5 * 1024 * 1024;

/** key → [value, expected error code] */
const POISON: ReadonlyArray<[string, Buffer, string]> = [
  ['poison-json', Buffer.from('{"id": "poison-json", "body": "the rest was cut'), 'MESSAGE_INVALID_JSON'],
  ['poison-no-body', Buffer.from(JSON.stringify({ id: 'poison-no-body', title: 'Only a title' })), 'MESSAGE_SCHEMA'],
  ['poison-number-body', Buffer.from(JSON.stringify({ id: 'poison-number-body', body: 42 })), 'MESSAGE_SCHEMA'],
  ['poison-big', Buffer.from(JSON.stringify({ id: 'poison-big', body: 'x'.repeat(BIG) })), 'MESSAGE_TOO_LARGE'],
  ['poison-utf8', Buffer.concat([Buffer.from('{"id":"poison-utf8","body":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'MESSAGE_INVALID_UTF8'],
  ['poison-label', Buffer.from(JSON.stringify({ id: 'poison-label', body: 'A fine article.', labels: ['person', 'has <<ENT>> inside'] })), 'LABELS_INVALID'],
  ['poison-long-id', Buffer.from(JSON.stringify({ id: '€'.repeat(200), body: 'An id of 600 bytes.' })), 'MESSAGE_SCHEMA'],
  // Issue 9: well-formed, but 6,000 levels deep — it used to stop the service on every restart.
  ['poison-deep', Buffer.from(`{"id":"poison-deep","body":"Reuters reported from Paris.","extra":${'['.repeat(6000)}${']'.repeat(6000)}}`), 'MESSAGE_TOO_DEEP'],
];

describe('poison messages', () => {
  const names = uniquePipelineNames('poison');
  const es = createEsClient();
  const resources = new EsResources(es);
  const good = generateArticles(GOOD, { seed: 3, longEvery: 0, idPrefix: 'good' });
  let service: EnricherService | undefined;
  let dlq: ConsumedMessage[];
  let input: ConsumedMessage[];

  beforeAll(async () => {
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 3, inputConfig: { 'max.message.bytes': String(8 * 1024 * 1024) } });
    const messages: Message[] = good.map((a) => ({ key: a.id, value: JSON.stringify(a) }));
    POISON.forEach(([key, value], i) => messages.splice(3 + i * 5, 0, { key, value }));
    await produce(names.input, messages);
    input = await consumeAll(names.input, { until: messages.length, timeoutMs: 60_000 });

    service = await EnricherService.start({ config: serviceConfig(names), logger: createLogger('warn') });
    await waitFor(async () => (await allIds(es, names.index)).length === GOOD, { timeoutMs: 120_000, intervalMs: 500, description: `${GOOD} documents` });
    dlq = await consumeAll(names.dlq, { until: POISON.length, timeoutMs: 60_000 });
    // Everything done: the dead-letter count is final.
    await waitFor(async () => service!.inFlight === 0, { description: 'queue empty' });
  }, 240_000);

  afterAll(async () => {
    await service?.close();
    await deletePipelineTopics(names);
    await resources.cleanup();
    await es.close();
  });

  it('sends exactly the poison messages to the dead-letter topic, with their codes', async () => {
    const text = await service!.metrics.registry.getSingleMetricAsString('enricher_messages_dead_lettered_total');
    const total = [...text.matchAll(/\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(total).toBe(POISON.length);
    expect(dlq).toHaveLength(POISON.length);
    const byKey = new Map(dlq.map((m) => [m.key, m]));
    for (const [key, , code] of POISON) expect(byKey.get(key)?.headers['x-error-code'], key).toBe(code);
  });

  it('keeps the original bytes and says where the message came from', async () => {
    // consumeAll decodes values as UTF-8; compare raw bytes through a second look at the input.
    const origin = new Map(input.map((m) => [m.key, m]));
    for (const m of dlq) {
      const src = origin.get(m.key)!;
      expect(m.headers['x-source-topic']).toBe(names.input);
      expect(Number(m.headers['x-source-partition'])).toBe(src.partition);
      expect(m.headers['x-source-offset']).toBe(src.offset);
      expect(Number.isNaN(Date.parse(m.headers['x-failed-at']!))).toBe(false);
      expect(m.headers['x-error-message']!.length).toBeGreaterThan(0);
      if (m.key === 'poison-big') {
        // Too large for the dead-letter topic (1 MB): cut to fit, original size in a header.
        expect(Number(m.headers['x-value-truncated'])).toBe(POISON.find(([k]) => k === 'poison-big')![1].length);
        expect(src.value!.startsWith(m.value!)).toBe(true);
      } else {
        expect(m.headers['x-value-truncated']).toBeUndefined();
        expect(m.value).toBe(src.value);
      }
    }
    const utf8 = POISON.find(([k]) => k === 'poison-utf8')![1];
    const [raw] = await rawValues(names.dlq, 'poison-utf8');
    expect(Buffer.compare(raw!, utf8)).toBe(0);
  });

  it('delivers every good article and commits past the poison', async () => {
    const ids = await allIds(es, names.index);
    expect(ids.sort()).toEqual(good.map((a) => a.id).sort());
    const out = await consumeAll(names.output, { until: GOOD, timeoutMs: 60_000 });
    expect(new Set(out.map((m) => m.key))).toEqual(new Set(good.map((a) => a.id)));
    await waitFor(
      async () => {
        const committed = await committedOffsets(names.group, names.input);
        const ends = new Map<number, number>();
        for (const m of input) ends.set(m.partition, Math.max(ends.get(m.partition) ?? 0, Number(m.offset) + 1));
        return [...ends].every(([p, end]) => committed.get(p) === end);
      },
      { timeoutMs: 20_000, description: 'offsets committed to the end of every partition' },
    );
  });
});

/** Raw (undecoded) values of the records with a given key. */
async function rawValues(topic: string, key: string): Promise<Buffer[]> {
  const { sharedKafka, uniqueGroupId } = await import('../helpers/kafka.js');
  const consumer = sharedKafka().consumer({ groupId: uniqueGroupId('raw'), maxWaitTimeInMs: 100 });
  const found: Buffer[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void (message.key?.toString() === key && message.value && found.push(Buffer.from(message.value))) });
    await waitFor(() => found.length > 0, { timeoutMs: 30_000, description: `raw record ${key}` });
  } finally {
    await consumer.disconnect();
  }
  return found;
}
