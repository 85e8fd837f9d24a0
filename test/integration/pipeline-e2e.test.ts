/**
 * End to end with the real tiny GLiNER fixture through createExtractor (worker pool), real
 * Kafka and real Elasticsearch: 500 articles of mixed length in, every one in Elasticsearch
 * with entities at exact offsets and on the output topic; the documented entity search and
 * top-entities aggregation answer what the output records say they should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { EnricherService } from '../../src/pipeline/service.js';
import type { EnrichedArticle } from '../../src/enriched.js';
import { createEsClient, EsResources, waitFor } from '../helpers/es.js';
import { consumeAll, produce } from '../helpers/kafka.js';
import { generateArticles, type NewsArticle } from '../helpers/news.js';
import {
  allDocs,
  createPipelineTopics,
  deletePipelineTopics,
  esCount,
  jsonMessages,
  serviceConfig,
  trackEs,
  uniquePipelineNames,
} from '../helpers/pipeline.js';

const N = 500;

describe('pipeline end to end (tiny-span model, real Kafka and Elasticsearch)', () => {
  const names = uniquePipelineNames('e2e');
  const es = createEsClient();
  const resources = new EsResources(es);
  const articles: NewsArticle[] = generateArticles(N, { seed: 11, longEvery: 25, longWords: 2100, shortSentences: [2, 6], idPrefix: 'e2e' });
  let service: EnricherService | undefined;
  let outputs: Map<string, EnrichedArticle>;
  let docs: Map<string, EnrichedArticle>;

  beforeAll(async () => {
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 3 });
    await produce(names.input, jsonMessages(articles));
    const t0 = performance.now();
    service = await EnricherService.start({ config: serviceConfig(names, { INFERENCE_WORKERS: '2' }), logger: createLogger('warn') });
    await waitFor(async () => (await esCount(es, names.index)) === N, { timeoutMs: 240_000, intervalMs: 500, description: `${N} documents in ${names.index}` });
    const seconds = (performance.now() - t0) / 1000;
    // Reported, not asserted: the throughput of the whole service with the tiny model.
    process.stderr.write(`[e2e] ${N} articles (${articles.filter((a) => a.body.split(/\s+/).length > 2000).length} above 2,000 words) in ${seconds.toFixed(1)} s: ${(N / seconds).toFixed(0)} articles/s\n`);
    const records = await consumeAll(names.output, { until: N, timeoutMs: 60_000 });
    outputs = new Map();
    for (const r of records) {
      expect(r.headers['x-model']).toBe('tiny-span');
      expect(r.headers['x-model-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(r.headers['x-enricher-version']).toMatch(/^\d+\.\d+\.\d+/);
      const value = JSON.parse(r.value!) as EnrichedArticle;
      expect(r.key).toBe(value.id);
      outputs.set(value.id, value);
    }
    docs = await allDocs<EnrichedArticle>(es, names.index);
  }, 300_000);

  afterAll(async () => {
    await service?.close();
    await deletePipelineTopics(names);
    await resources.cleanup();
    await es.close();
  });

  it('indexes every article once and produces every article to the output topic', () => {
    expect(docs.size).toBe(N);
    expect(outputs.size).toBe(N);
    for (const a of articles) {
      expect(docs.has(a.id), a.id).toBe(true);
      expect(outputs.has(a.id), a.id).toBe(true);
    }
  });

  it('keeps the input fields and reports entities at exact UTF-16 offsets of their field', () => {
    let entities = 0;
    for (const a of articles) {
      const doc = docs.get(a.id)!;
      expect(doc['body']).toBe(a.body);
      expect(doc['published_at']).toBe(a.published_at);
      expect(doc.enrichment.model).toBe('tiny-span');
      expect(doc.enrichment.truncated).toBe(false);
      if (a.body.split(/\s+/).length > 2000) expect(doc.enrichment.windows).toBeGreaterThan(2);
      for (const e of doc.entities) {
        const text = doc[e.field] as string;
        expect(text.slice(e.start, e.end), `${a.id} ${e.field}[${e.start}:${e.end}]`).toBe(e.text);
        entities += 1;
      }
      // Elasticsearch holds what the output topic carried.
      expect(doc.entities).toEqual(outputs.get(a.id)!.entities);
    }
    expect(entities).toBeGreaterThan(N);
  });

  it('finds the articles mentioning a given entity of a given label (nested query)', async () => {
    // The most frequent (label, text) pair in the output records, and who mentions it.
    const mentions = new Map<string, Set<string>>();
    for (const o of outputs.values()) for (const e of o.entities) {
      const k = `${e.label}\u0000${e.text}`;
      if (!mentions.has(k)) mentions.set(k, new Set());
      mentions.get(k)!.add(o.id);
    }
    const [key, ids] = [...mentions].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0]!;
    const [label, text] = key.split('\u0000') as [string, string];
    const res = await es.search({
      index: names.index,
      size: N,
      _source: false,
      query: { nested: { path: 'entities', query: { bool: { filter: [{ term: { 'entities.label': label } }, { term: { 'entities.text.keyword': text } }] } } } },
    });
    expect(res.hits.hits.map((h) => h._id).sort()).toEqual([...ids].sort());
  });

  it('answers the top-entities aggregation of a label over a time range', async () => {
    const from = '2026-10-10T00:00:00Z';
    const inRange = [...outputs.values()].filter((o) => String(o['published_at']) >= from);
    const label = 'organization';
    // Mentions per text (nested doc counts) and articles per text (entities_by_label).
    const mentionCount = new Map<string, number>();
    const articleCount = new Map<string, number>();
    for (const o of inRange) {
      for (const e of o.entities) if (e.label === label) mentionCount.set(e.text, (mentionCount.get(e.text) ?? 0) + 1);
      for (const t of o.entities_by_label[label] ?? []) articleCount.set(t, (articleCount.get(t) ?? 0) + 1);
    }
    interface Bucket {
      key: string;
      doc_count: number;
    }
    const res = await es.search<unknown, { ents: { label: { top: { buckets: Bucket[] } } }; docs: { buckets: Bucket[] } }>({
      index: names.index,
      size: 0,
      query: { range: { published_at: { gte: from } } },
      aggs: {
        ents: { nested: { path: 'entities' }, aggs: { label: { filter: { term: { 'entities.label': label } }, aggs: { top: { terms: { field: 'entities.text.keyword', size: 10 } } } } } },
        docs: { terms: { field: `entities_by_label.${label}`, size: 10 } },
      },
    });
    const top = res.aggregations!.ents.label.top.buckets;
    const byDoc = res.aggregations!.docs.buckets;
    expect(top.length).toBeGreaterThan(0);
    expect(top[0]!.doc_count).toBe(Math.max(...mentionCount.values()));
    for (const b of top) expect(b.doc_count, b.key).toBe(mentionCount.get(b.key));
    expect(byDoc[0]!.doc_count).toBe(Math.max(...articleCount.values()));
    for (const b of byDoc) expect(b.doc_count, b.key).toBe(articleCount.get(b.key));
  });

  it('committed every offset and reports it in its metrics', async () => {
    const text = await service!.metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`enricher_messages_out_total ${N}\\b`));
    expect(text).toContain('enricher_inference_duration_seconds_bucket');
    expect(text).toContain('process_resident_memory_bytes');
    expect(service!.inFlight).toBe(0);
  });
});
