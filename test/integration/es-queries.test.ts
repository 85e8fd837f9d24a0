/**
 * The entity search examples (deploy/elasticsearch/queries/*.json, shown in
 * docs/elasticsearch-queries.md) against the real Elasticsearch of the test harness: the
 * project's index template is installed for a unique index, a few enriched articles built with
 * `buildEnrichedArticle` (the real document shape) are indexed, and every query file runs with
 * the parameters the docs use. A further check keeps the docs' pasteable requests identical to
 * the query files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArticle } from '../../src/article.js';
import { buildEnrichedArticle, type EnrichedArticle } from '../../src/enriched.js';
import type { Entity, ModelInfo } from '../../src/core/types.js';
import type { FieldEntities } from '../../src/core/extraction.js';
import type { Relation } from '../../src/core/relations.js';
import { pino } from 'pino';
import { EsSink } from '../../src/pipeline/es-sink.js';
import { HealthState } from '../../src/pipeline/health.js';
import { PipelineMetrics } from '../../src/pipeline/metrics.js';
import { createEsClient, EsResources, uniqueIndexName, waitFor, waitForEsHealthy } from '../helpers/es.js';
import { loadQuery, QUERY_DIR, renderQuery, type Params } from '../helpers/queries.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATE_FILE = join(ROOT, 'deploy/elasticsearch/index-template.json');
const DOCS_FILE = join(ROOT, 'docs/elasticsearch-queries.md');

// ---- the articles -------------------------------------------------------------------------

interface Sample {
  id: string;
  source: string;
  published_at: string;
  title: string;
  body: string;
  /** [surface text, label] per field; offsets are found in the text (first occurrence). */
  title_entities: Array<[string, string]>;
  body_entities: Array<[string, string]>;
  /** [head, relation, tail, field]: head and tail are entities of that field (first occurrence). */
  relations?: Array<[string, string, string, 'title' | 'body']>;
}

const SAMPLES: Sample[] = [
  {
    id: 'a1',
    source: 'reuters',
    published_at: '2026-01-05T09:00:00Z',
    title: 'Apple opens research lab in Paris',
    body: 'Apple said on Monday it will open a research lab in Paris. Tim Cook announced the plan with Emmanuel Macron.',
    title_entities: [['Apple', 'organization'], ['Paris', 'location']],
    body_entities: [['Apple', 'organization'], ['Paris', 'location'], ['Tim Cook', 'person'], ['Emmanuel Macron', 'person']],
  },
  {
    id: 'a2',
    source: 'reuters',
    published_at: '2026-01-12T10:30:00Z',
    title: 'Microsoft and OpenAI extend partnership',
    body: 'Microsoft and OpenAI extended their partnership, Satya Nadella said in Redmond.',
    title_entities: [['Microsoft', 'organization'], ['OpenAI', 'organization']],
    body_entities: [['Microsoft', 'organization'], ['OpenAI', 'organization'], ['Satya Nadella', 'person'], ['Redmond', 'location']],
    relations: [['Microsoft', 'partner of', 'OpenAI', 'body'], ['Satya Nadella', 'works for', 'Microsoft', 'body']],
  },
  {
    id: 'a3',
    source: 'bloomberg',
    published_at: '2026-01-20T14:00:00Z',
    title: 'Apple supplier TSMC expands in Arizona',
    body: 'TSMC, the main chip supplier of Apple, expands its plant in Arizona. Tim Cook visited Phoenix.',
    title_entities: [['Apple', 'organization'], ['TSMC', 'organization'], ['Arizona', 'location']],
    body_entities: [['TSMC', 'organization'], ['Apple', 'organization'], ['Arizona', 'location'], ['Tim Cook', 'person'], ['Phoenix', 'location']],
    relations: [['TSMC', 'supplier of', 'Apple', 'title'], ['TSMC', 'supplier of', 'Apple', 'body'], ['TSMC', 'located in', 'Arizona', 'body']],
  },
  {
    id: 'a4',
    source: 'bloomberg',
    published_at: '2026-02-03T08:00:00Z',
    title: 'Nvidia results beat forecasts',
    body: 'Nvidia reported record revenue. Jensen Huang said demand from Microsoft stays strong.',
    title_entities: [['Nvidia', 'organization']],
    body_entities: [['Nvidia', 'organization'], ['Jensen Huang', 'person'], ['Microsoft', 'organization']],
    relations: [['Jensen Huang', 'works for', 'Nvidia', 'body'], ['Microsoft', 'customer of', 'Nvidia', 'body']],
  },
  {
    id: 'a5',
    source: 'ap',
    published_at: '2026-02-10T16:00:00Z',
    title: 'Macron hosts AI summit in Paris',
    body: 'Emmanuel Macron opened the AI Action Summit in Paris with Sundar Pichai and Tim Cook.',
    title_entities: [['Macron', 'person'], ['Paris', 'location']],
    body_entities: [['Emmanuel Macron', 'person'], ['AI Action Summit', 'event'], ['Paris', 'location'], ['Sundar Pichai', 'person'], ['Tim Cook', 'person']],
  },
  {
    id: 'a6',
    source: 'ap',
    published_at: '2026-03-01T12:00:00Z',
    title: 'Apple unveils the iPhone 17',
    body: 'Apple unveiled the iPhone 17 in Cupertino.',
    title_entities: [['Apple', 'organization'], ['iPhone 17', 'product']],
    body_entities: [['Apple', 'organization'], ['iPhone 17', 'product'], ['Cupertino', 'location']],
  },
];

const LABELS = ['person', 'organization', 'location', 'event', 'product'];
const RELATIONS = ['partner of', 'works for', 'supplier of', 'located in', 'customer of'];
const MODEL: ModelInfo = {
  name: 'gliner_medium_news-v2.1',
  sha256: '0'.repeat(64),
  file: 'onnx/model.onnx',
  spanMode: 'span',
  maxLen: 384,
  maxWidth: 12,
  executionProvider: 'cpu',
};

function entitiesIn(text: string, mentions: Array<[string, string]>): Entity[] {
  return mentions.map(([surface, label], i) => {
    const start = text.indexOf(surface);
    if (start < 0) throw new Error(`test data: "${surface}" is not in "${text}"`);
    return { text: surface, label, start, end: start + surface.length, score: 0.9 - i * 0.01 };
  });
}

function relationsOf(s: Sample): Relation[] {
  return (s.relations ?? []).map(([head, relation, tail, field], i) => {
    const text = field === 'title' ? s.title : s.body;
    const mentions = entitiesIn(text, field === 'title' ? s.title_entities : s.body_entities);
    const end = (t: string) => {
      const e = mentions.find((m) => m.text === t);
      if (e === undefined) throw new Error(`test data: relation end "${t}" is not an entity of ${s.id}'s ${field}`);
      return { text: e.text, label: e.label, start: e.start, end: e.end };
    };
    return { head: end(head), relation, tail: end(tail), score: 0.8 - i * 0.01, field };
  });
}

function enriched(s: Sample): EnrichedArticle {
  const article = parseArticle({ id: s.id, source: s.source, published_at: s.published_at, title: s.title, body: s.body, url: `https://news.example/${s.id}` }, undefined);
  const results: FieldEntities[] = [
    { field: 'title', entities: entitiesIn(s.title, s.title_entities), windows: 1, words: s.title.split(' ').length },
    { field: 'body', entities: entitiesIn(s.body, s.body_entities), windows: 1, words: s.body.split(' ').length },
  ];
  return buildEnrichedArticle(article, results, {
    model: MODEL,
    labels: LABELS,
    decode: { threshold: 0.5, flatNer: true, multiLabel: false },
    relations: { names: RELATIONS, threshold: 0.5, found: relationsOf(s) },
    durationMs: 12.5,
    processedAt: new Date('2026-03-02T00:00:00Z'),
    version: '0.1.0',
  });
}

// ---- the parameters the docs use (docs/elasticsearch-queries.md shows these requests) --------

const EXAMPLES: Record<string, Params> = {
  'articles-by-entity.json': { entity: 'apple', label: 'organization', from: '2026-01-01', to: '2026-02-01', size: 10 },
  'top-entities-by-label.json': { label_key: 'organization', from: '2026-01-01', to: '2026-04-01', size: 3 },
  'top-entities-all-labels.json': { from: '2026-01-01', to: '2026-04-01', size: 3 },
  'co-occurring-entities.json': { entity: 'Tim Cook', label: 'person', from: '2026-01-01', to: '2026-04-01', size: 5 },
  'significant-entities-for-source.json': { source: 'ap', label_key: 'person', from: '2000-01-01', to: '2100-01-01', size: 5, min_doc_count: 1 },
  'articles-by-relation.json': { relation: 'supplier of', head_label: 'organization', tail_label: 'organization', tail: 'apple', from: '2026-01-01', to: '2026-04-01', size: 10 },
  'top-relation-pairs.json': { from: '2026-01-01', to: '2026-04-01', size: 5 },
};

interface Bucket {
  key: string;
  doc_count: number;
  articles?: { doc_count: number };
  labels?: { buckets: Bucket[] };
  top_entities?: { buckets: Bucket[] };
  score?: number;
}

describe('Elasticsearch entity search examples (real Elasticsearch)', () => {
  let client: Client;
  let resources: EsResources;
  let index: string;
  const search = async (file: string, params: Params = EXAMPLES[file]!): Promise<Record<string, unknown>> => {
    const body = renderQuery(loadQuery(file), params) as Record<string, unknown>;
    return (await client.search({ index, ...body })) as unknown as Record<string, unknown>;
  };
  const aggs = (res: Record<string, unknown>): Record<string, unknown> => res['aggregations'] as Record<string, unknown>;

  beforeAll(async () => {
    client = createEsClient();
    resources = new EsResources(client);
    await waitForEsHealthy(client, { timeoutMs: 120_000 });
    index = resources.index(uniqueIndexName('it-queries'));
    // The service installs the bundled template with index_patterns = [<index>, <index>-*].
    const template = JSON.parse(readFileSync(TEMPLATE_FILE, 'utf8')) as Record<string, unknown>;
    await client.indices.putIndexTemplate({
      name: resources.indexTemplate(`${index}-template`),
      ...template,
      index_patterns: [index, `${index}-*`],
    } as Parameters<Client['indices']['putIndexTemplate']>[0]);

    const docs = SAMPLES.map(enriched);
    const bulk = await client.bulk({
      refresh: 'wait_for',
      operations: docs.flatMap((d) => [{ index: { _index: index, _id: d.id } }, d]),
    });
    expect(bulk.errors, JSON.stringify(bulk.items.filter((i) => i.index?.error))).toBe(false);
    await waitFor(async () => (await client.count({ index })).count === SAMPLES.length, { description: `${SAMPLES.length} documents searchable` });
  });

  afterAll(async () => {
    try {
      await resources?.cleanup();
    } finally {
      await client?.close();
    }
  });

  it('indexes the real document shape through the project template (entities nested, entities_by_label keyword)', async () => {
    const mapping = await client.indices.getMapping({ index });
    const props = mapping[index]?.mappings.properties ?? {};
    expect(props['entities']?.type).toBe('nested');
    expect((props['entities_by_label'] as { properties?: Record<string, { type?: string }> }).properties?.['organization']?.type).toBe('keyword');
    const a1 = await client.get<EnrichedArticle>({ index, id: 'a1' });
    expect(a1._source?.entities_by_label['organization']).toEqual(['Apple']);
    expect(a1._source?.entity_summary.find((s) => s.text === 'Paris')?.count).toBe(2);
  });

  it('articles-by-entity: articles mentioning an entity of a label in a date range (case-insensitive, with the mentions)', async () => {
    const res = (await search('articles-by-entity.json')) as { hits: { hits: Array<{ _id: string; inner_hits: { entities: { hits: { total: { value: number }; hits: Array<{ _source: { field: string; text: string } }> } } } }> } };
    expect(res.hits.hits.map((h) => h._id)).toEqual(['a3', 'a1']); // a6 (March) is outside the range
    const a1 = res.hits.hits[1]!.inner_hits.entities.hits;
    expect(a1.total.value).toBe(2);
    expect(a1.hits.map((h) => h._source.field).sort()).toEqual(['body', 'title']);
    // Same text, another label: nothing (label and text are matched on the same nested entity).
    const wrongLabel = (await search('articles-by-entity.json', { ...EXAMPLES['articles-by-entity.json']!, label: 'person' })) as { hits: { hits: unknown[] } };
    expect(wrongLabel.hits.hits).toEqual([]);
  });

  it('top-entities-by-label: top N entities of one label by article count (flat keyword field)', async () => {
    const buckets = (aggs(await search('top-entities-by-label.json'))['top_entities'] as { buckets: Bucket[] }).buckets;
    expect(buckets.map((b) => [b.key, b.doc_count])).toEqual([
      ['Apple', 3],
      ['Microsoft', 2],
      ['Nvidia', 1],
    ]);
  });

  it('top-entities-all-labels: top N entities per label with mentions and articles (nested + reverse_nested)', async () => {
    const byLabel = ((aggs(await search('top-entities-all-labels.json'))['mentions'] as { by_label: { buckets: Bucket[] } }).by_label.buckets);
    const table = Object.fromEntries(
      byLabel.map((l) => [l.key, l.top_entities!.buckets.map((b) => [b.key, b.doc_count, b.articles!.doc_count])]),
    );
    expect(Object.keys(table)).toEqual(['event', 'location', 'organization', 'person', 'product']);
    // [entity, mentions, articles]: Paris is mentioned 4 times in 2 articles.
    expect(table['location']).toEqual([
      ['Paris', 4, 2],
      ['Arizona', 2, 1],
      ['Cupertino', 1, 1],
    ]);
    expect(table['person']?.[0]).toEqual(['Tim Cook', 3, 3]);
    expect(table['organization']?.slice(0, 2)).toEqual([
      ['Apple', 6, 3],
      ['Microsoft', 3, 2],
    ]);
    expect(table['event']).toEqual([['AI Action Summit', 1, 1]]);
  });

  it('co-occurring-entities: entities found in the articles that mention a given entity', async () => {
    const others = (aggs(await search('co-occurring-entities.json'))['mentions'] as { others: { co_occurring: { buckets: Bucket[] } } }).others.co_occurring.buckets;
    const rows = others.map((b) => [b.key, b.articles!.doc_count, b.labels!.buckets[0]!.key]);
    // Tim Cook appears in a1, a3 and a5; he is not his own co-occurrence.
    expect(rows).toEqual([
      ['Apple', 2, 'organization'],
      ['Emmanuel Macron', 2, 'person'],
      ['Paris', 2, 'location'],
      ['AI Action Summit', 1, 'event'],
      ['Arizona', 1, 'location'],
    ]);
    expect(rows.some((r) => r[0] === 'Tim Cook')).toBe(false);
  });

  it('significant-entities-for-source: entities unusually frequent in one source compared with all articles', async () => {
    const buckets = (aggs(await search('significant-entities-for-source.json'))['significant_entities'] as { buckets: Bucket[] }).buckets;
    const keys = buckets.map((b) => b.key);
    // AP's persons: Macron and Sundar Pichai only appear there; Emmanuel Macron also in Reuters;
    // Tim Cook is everywhere (3 of 6 articles, 1 of AP's 2): not significant.
    expect(new Set(keys.slice(0, 2))).toEqual(new Set(['Macron', 'Sundar Pichai']));
    expect(keys[2]).toBe('Emmanuel Macron');
    expect(keys).not.toContain('Tim Cook');
    expect(buckets[0]!.score).toBeGreaterThan(buckets[2]!.score!);
  });

  it('articles-by-relation: articles where an organization is a supplier of an organization named X (nested, same relation)', async () => {
    type Hit = { _id: string; inner_hits: { relations: { hits: { total: { value: number }; hits: Array<{ _source: { head: { text: string }; field: string } }> } } } };
    const res = (await search('articles-by-relation.json')) as { hits: { hits: Hit[] } };
    expect(res.hits.hits.map((h) => h._id)).toEqual(['a3']);
    const inner = res.hits.hits[0]!.inner_hits.relations.hits;
    expect(inner.total.value).toBe(2);
    expect(inner.hits.map((h) => [h._source.head.text, h._source.field]).sort()).toEqual([['TSMC', 'body'], ['TSMC', 'title']]);
    // The same ends under another relation, or Apple as the head: nothing (matched on one nested relation).
    const other = (await search('articles-by-relation.json', { ...EXAMPLES['articles-by-relation.json']!, relation: 'partner of' })) as { hits: { hits: unknown[] } };
    expect(other.hits.hits).toEqual([]);
    const mapping = await client.indices.getMapping({ index });
    expect(mapping[index]?.mappings.properties?.['relations']?.type).toBe('nested');
  });

  it('top-relation-pairs: the most frequent head --relation--> tail pairs, with article counts', async () => {
    type RelBucket = Bucket & { heads: { buckets: Array<Bucket & { tails: { buckets: Bucket[] } }> } };
    const byRelation = ((aggs(await search('top-relation-pairs.json'))['relations'] as { by_relation: { buckets: RelBucket[] } }).by_relation.buckets);
    const rows = byRelation.flatMap((r) => r.heads.buckets.flatMap((h) => h.tails.buckets.map((t) => [r.key, h.key, t.key, t.doc_count, t.articles!.doc_count])));
    expect(rows).toEqual([
      ['supplier of', 'TSMC', 'Apple', 2, 1],
      ['works for', 'Jensen Huang', 'Nvidia', 1, 1],
      ['works for', 'Satya Nadella', 'Microsoft', 1, 1],
      ['customer of', 'Microsoft', 'Nvidia', 1, 1],
      ['located in', 'TSMC', 'Arizona', 1, 1],
      ['partner of', 'Microsoft', 'OpenAI', 1, 1],
    ]);
  });

  it('an index made before relations existed gets the nested relations and enrichment.backend mappings at start-up; a plain-object one is refused', async () => {
    const sinkFor = (name: string) =>
      new EsSink(client, {
        index: name,
        refresh: 'false',
        bulkMaxBytes: 1 << 20,
        backoff: { baseMs: 10, maxMs: 50 },
        installTemplate: true,
        logger: pino({ level: 'silent' }),
        metrics: new PipelineMetrics({ defaultMetrics: false }),
        health: new HealthState(['elasticsearch']),
      });
    const entities = { type: 'nested', properties: { text: { type: 'text' }, label: { type: 'keyword' } } } as const;
    const old = resources.index(uniqueIndexName('it-v1'));
    resources.indexTemplate(old);
    await client.indices.create({ index: old, mappings: { properties: { entities, enrichment: { properties: { model: { type: 'keyword' } } } } } });
    await sinkFor(old).setup(new AbortController().signal);
    const mapping = await client.indices.getMapping({ index: old });
    expect(mapping[old]?.mappings.properties?.['relations']?.type).toBe('nested');
    // ... and, from template version 3, `enrichment.backend` as a keyword (before any article brings it as text).
    const enrichment = mapping[old]?.mappings.properties?.['enrichment'] as { properties?: Record<string, { type?: string }> } | undefined;
    expect(enrichment?.properties?.['backend']?.type).toBe('keyword');

    const plain = resources.index(uniqueIndexName('it-objrel'));
    resources.indexTemplate(plain);
    await client.indices.create({ index: plain, mappings: { properties: { entities, relations: { properties: { relation: { type: 'keyword' } } } } } });
    await expect(sinkFor(plain).setup(new AbortController().signal)).rejects.toMatchObject({ code: 'ES_MAPPING_CONFLICT' });
  });

  it('every query file has an example here and a pasteable request in docs/elasticsearch-queries.md that matches it', () => {
    const files = readdirSync(QUERY_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(Object.keys(EXAMPLES).sort());
    const docs = readFileSync(DOCS_FILE, 'utf8');
    const blocks = [...docs.matchAll(/<!-- query: (\S+) (\{.*?\}) -->\s*```[a-z]*\n(GET|POST) (\S+)\n([\s\S]*?)```/g)];
    const documented = new Set<string>();
    for (const [, file, params, , path, body] of blocks) {
      expect(files, `docs name an unknown query file ${file}`).toContain(file);
      expect(path).toMatch(/^news-articles\/_search$/);
      expect(JSON.parse(body!), `docs block for ${file} differs from the file rendered with ${params}`).toEqual(
        renderQuery(loadQuery(file!), JSON.parse(params!) as Params),
      );
      documented.add(file!);
    }
    expect([...documented].sort()).toEqual(files);
  });

  it('renders placeholders type-preserving and refuses unknown ones', () => {
    expect(renderQuery({ size: '{{n}}', f: 'a.{{k}}', l: ['{{k}}'] }, { n: 3, k: 'x' })).toEqual({ size: 3, f: 'a.x', l: ['x'] });
    expect(() => renderQuery({ a: '{{missing}}' }, {})).toThrow(/missing/);
  });
});
