/**
 * Smoke test of the real services from scripts/services.sh: proves a clean checkout gets a Kafka
 * with partitions, consumer groups and transactions, and an Elasticsearch with the features the
 * enricher's mapping and queries rely on (composable templates, nested, external versions, aggs).
 */
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  consumeAll,
  createTopic,
  deleteTopics,
  produce,
  sharedKafka,
  textMessages,
  uniqueGroupId,
  uniqueName,
  uniqueTopic,
  withAdmin,
} from '../helpers/kafka.js';
import { createEsClient, EsResources, uniqueIndexName, waitForEsHealthy } from '../helpers/es.js';
import { startService, stopService } from '../helpers/services.js';

describe('kafka (KRaft, single node)', () => {
  const topics: string[] = [];
  const topic = (label: string): string => {
    const name = uniqueTopic(label);
    topics.push(name);
    return name;
  };

  afterAll(async () => {
    await deleteTopics(topics);
  });

  it('creates a 3-partition topic, then produces and consumes 100 messages in a group', async () => {
    const t = topic('smoke');
    await createTopic(t, { partitions: 3 });
    const meta = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [t] }));
    expect(meta.topics[0]?.partitions).toHaveLength(3);

    await produce(t, textMessages(100));
    const groupId = uniqueGroupId('smoke');
    const got = await consumeAll(t, { until: 100, groupId, timeoutMs: 30_000 });

    expect(got).toHaveLength(100);
    expect(new Set(got.map((m) => m.value)).size).toBe(100);
    expect(new Set(got.map((m) => m.partition))).toEqual(new Set([0, 1, 2]));
    // Keyed messages keep per-key order within their partition.
    for (const p of [0, 1, 2]) {
      const offsets = got.filter((m) => m.partition === p).map((m) => BigInt(m.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    // The group committed what it read (autoCommit): 100 in total over the 3 partitions.
    const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [t] }));
    const total = committed[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(total).toBe(100);
  });

  it('commits a transaction with sendOffsets and hides an aborted one from read_committed', async () => {
    const input = topic('txn-in');
    const output = topic('txn-out');
    await createTopic(input, { partitions: 3 });
    await createTopic(output, { partitions: 3 });
    await produce(input, textMessages(9, 'in-', 'in-'));

    // Read the input like the enricher does: in a group, without auto-commit.
    const groupId = uniqueGroupId('txn');
    const inputs = await consumeAll(input, { until: 9, groupId, autoCommit: false });
    const nextOffsets = new Map<number, number>();
    for (const m of inputs) nextOffsets.set(m.partition, Math.max(nextOffsets.get(m.partition) ?? 0, Number(m.offset) + 1));

    const producer = sharedKafka().producer({
      transactionalId: uniqueName('it-txn'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const committedTxn = await producer.transaction();
      await committedTxn.send({
        topic: output,
        messages: inputs.map((m) => ({ key: m.key, value: `out-${m.value ?? ''}` })),
      });
      await committedTxn.sendOffsets({
        consumerGroupId: groupId,
        topics: [
          {
            topic: input,
            partitions: [...nextOffsets].map(([partition, offset]) => ({ partition, offset: String(offset) })),
          },
        ],
      });
      await committedTxn.commit();

      const abortedTxn = await producer.transaction();
      await abortedTxn.send({ topic: output, messages: textMessages(5, 'aborted-', 'aborted-') });
      await abortedTxn.abort();
    } finally {
      await producer.disconnect();
    }

    const committed = await consumeAll(output, { until: 9, readUncommitted: false });
    expect(committed.map((m) => m.value).sort()).toEqual(inputs.map((m) => `out-${m.value ?? ''}`).sort());
    // read_uncommitted sees the aborted records too: proof the isolation level was honoured.
    const everything = await consumeAll(output, { until: 14, readUncommitted: true });
    expect(everything.filter((m) => m.value?.startsWith('aborted-'))).toHaveLength(5);

    const offsets = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [input] }));
    const byPartition = new Map(offsets[0]?.partitions.map((p) => [p.partition, Number(p.offset)]));
    expect(byPartition).toEqual(nextOffsets);
  });
});

describe('elasticsearch 8 (integ-test distribution)', () => {
  const client = createEsClient();
  const resources = new EsResources(client);

  beforeAll(async () => {
    await waitForEsHealthy(client, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    try {
      await resources.cleanup();
    } finally {
      await client.close();
    }
  });

  it('indexes through a composable template with a nested field and answers nested queries and aggs', async () => {
    const prefix = uniqueIndexName('it-news');
    const index = resources.index(`${prefix}-2026`);
    resources.index(`${prefix}-*`);
    const component = resources.componentTemplate(`${prefix}-mappings`);
    const template = resources.indexTemplate(`${prefix}-template`);

    await client.cluster.putComponentTemplate({
      name: component,
      template: {
        mappings: {
          dynamic: 'strict',
          properties: {
            title: { type: 'text' },
            published_at: { type: 'date' },
            entity_keys: { type: 'keyword' },
            entities: {
              type: 'nested',
              properties: {
                text: { type: 'keyword' },
                label: { type: 'keyword' },
                start: { type: 'integer' },
                end: { type: 'integer' },
                score: { type: 'float' },
              },
            },
          },
        },
      },
    });
    await client.indices.putIndexTemplate({
      name: template,
      index_patterns: [`${prefix}-*`],
      priority: 500,
      composed_of: [component],
      template: { settings: { number_of_shards: 1, number_of_replicas: 0 } },
    });

    const ent = (text: string, label: string, score: number) => ({ text, label, start: 0, end: text.length, score });
    const docs = [
      { id: 'a1', title: 'Apple opens office in Paris', day: '2026-03-01', entities: [ent('Apple', 'ORG', 0.95), ent('Paris', 'LOC', 0.9)] },
      { id: 'a2', title: 'Tim Cook meets Macron', day: '2026-03-01', entities: [ent('Tim Cook', 'PER', 0.9), ent('Macron', 'PER', 0.85)] },
      { id: 'a3', title: 'Apple and Nvidia in Berlin', day: '2026-03-02', entities: [ent('Apple', 'ORG', 0.8), ent('Nvidia', 'ORG', 0.9), ent('Berlin', 'LOC', 0.7)] },
      { id: 'a4', title: 'Nvidia results', day: '2026-03-03', entities: [ent('Nvidia', 'ORG', 0.97)] },
    ];
    const bulk = await client.bulk({
      refresh: 'wait_for',
      operations: docs.flatMap((d) => [
        { index: { _index: index, _id: d.id, version: 10, version_type: 'external' as const } },
        {
          title: d.title,
          published_at: `${d.day}T12:00:00Z`,
          entity_keys: d.entities.map((e) => `${e.label}|${e.text}`),
          entities: d.entities,
        },
      ]),
    });
    expect(bulk.errors).toBe(false);

    // External versioning: an older version is rejected with 409, the stored doc is unchanged.
    const stale = await client.bulk({
      refresh: true,
      operations: [{ index: { _index: index, _id: 'a1', version: 9, version_type: 'external' } }, { title: 'stale' }],
    });
    expect(stale.items[0]?.index?.status).toBe(409);
    expect((await client.get<{ title: string }>({ index, id: 'a1' }))._source?.title).toBe('Apple opens office in Paris');

    const mapping = await client.indices.getMapping({ index });
    expect(mapping[index]?.mappings.properties?.['entities']?.type).toBe('nested');

    // nested query (label and score on the same entity) + date range
    const nested = await client.search({
      index,
      query: {
        bool: {
          filter: [
            { range: { published_at: { gte: '2026-03-02', lt: '2026-04-01' } } },
            {
              nested: {
                path: 'entities',
                query: { bool: { filter: [{ term: { 'entities.label': 'ORG' } }, { range: { 'entities.score': { gte: 0.85 } } }] } },
              },
            },
          ],
        },
      },
    });
    expect(nested.hits.hits.map((h) => h._id).sort()).toEqual(['a3', 'a4']);

    interface Bucket {
      key: string | number;
      doc_count: number;
    }
    interface Aggs {
      top: { buckets: Bucket[] };
      ents: { orgs: { names: { buckets: Bucket[] } } };
      days: { buckets: Bucket[] };
      trending: { buckets: Bucket[] };
    }
    const aggs = await client.search<unknown, Aggs>({
      index,
      size: 0,
      query: { range: { published_at: { gte: '2026-03-02' } } },
      aggs: {
        top: { terms: { field: 'entity_keys', size: 10 } },
        ents: {
          nested: { path: 'entities' },
          aggs: { orgs: { filter: { term: { 'entities.label': 'ORG' } }, aggs: { names: { terms: { field: 'entities.text' } } } } },
        },
        days: { date_histogram: { field: 'published_at', calendar_interval: 'day' } },
        trending: { significant_terms: { field: 'entity_keys', min_doc_count: 2 } },
      },
    });
    const a = aggs.aggregations;
    expect(a?.top.buckets.find((b) => b.key === 'ORG|Nvidia')?.doc_count).toBe(2);
    expect(a?.ents.orgs.names.buckets.map((b) => [b.key, b.doc_count])).toEqual([
      ['Nvidia', 2],
      ['Apple', 1],
    ]);
    expect(a?.days.buckets.map((b) => b.doc_count)).toEqual([1, 1]);
    // Nvidia is in both recent docs but only 2 of 4 overall: the one significant term.
    expect(a?.trending.buckets.map((b) => b.key)).toEqual(['ORG|Nvidia']);
  });

  it.skipIf(!(inject('managedServices') ?? []).includes('es'))(
    'survives a stop and a --keep-data start of Elasticsearch (the path outage tests use)',
    async () => {
      const index = resources.index(uniqueIndexName('it-restart'));
      await client.index({ index, id: 'kept', document: { n: 1 }, refresh: true });

      await stopService('es');
      await expect(client.cluster.health()).rejects.toThrow();
      await startService('es', { keepData: true });
      await waitForEsHealthy(client, { timeoutMs: 60_000 });

      expect((await client.get<{ n: number }>({ index, id: 'kept' }))._source).toEqual({ n: 1 });
    },
    120_000,
  );
});
