/**
 * Relations end to end through real Kafka and real Elasticsearch, both ways the service asks
 * them: the native relation model fixture (tiny-span-relex: entities and relations in one pass)
 * and the multitask prompt on the entity-only fixture (tiny-span: a second pass). Articles of
 * mixed length (long ones need several windows) with RELATIONS configured, a few asking their
 * own relations or none; every article reaches Elasticsearch and the output topic with relations
 * whose ends are at exact offsets of their field; the documented relation query and aggregation
 * answer what the output records say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedArticle } from '../../src/enriched.js';
import { createLogger } from '../../src/logger.js';
import { EnricherService } from '../../src/pipeline/service.js';
import { createEsClient, EsResources, waitFor } from '../helpers/es.js';
import { FIXTURES } from '../helpers/golden.js';
import { consumeAll, produce } from '../helpers/kafka.js';
import { generateArticles, type NewsArticle } from '../helpers/news.js';
import { allDocs, createPipelineTopics, deletePipelineTopics, esCount, jsonMessages, serviceConfig, trackEs, uniquePipelineNames } from '../helpers/pipeline.js';
import { loadQuery, renderQuery } from '../helpers/queries.js';

const N = 40;
const RELATIONS = ['acquired', 'located in'];

const cases = [
  // The random-weight relation head relates about half of all entity pairs at 0.5 (a 900-word
  // article: 4,605 relations, a 1.2 MB record, dead-lettered as OUTPUT_TOO_LARGE); 0.99 keeps every record here under 1 MB.
  { name: 'native relation model', model: `${FIXTURES}models/tiny-span-relex`, modelName: 'tiny-span-relex', threshold: '0.99' },
  { name: 'multitask prompt', model: `${FIXTURES}models/tiny-span`, modelName: 'tiny-span', threshold: '0.5' },
];

describe.each(cases)('relations end to end: $name (real Kafka and Elasticsearch)', ({ model, modelName, threshold }) => {
  const names = uniquePipelineNames(`rel-${modelName}`);
  const es = createEsClient();
  const resources = new EsResources(es);
  const articles: Array<NewsArticle & { relations?: string[] }> = generateArticles(N, { seed: 23, longEvery: 10, longWords: 500, shortSentences: [2, 5], idPrefix: `rel-${modelName}` });
  // One article asks its own relations, one asks none (per-message `relations`).
  articles[1]!.relations = ['works for'];
  articles[2]!.relations = [];
  let service: EnricherService | undefined;
  let outputs: Map<string, EnrichedArticle>;
  let docs: Map<string, EnrichedArticle>;

  beforeAll(async () => {
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 2 });
    await produce(names.input, jsonMessages(articles));
    const env = { MODEL_DIR: model, INFERENCE_WORKERS: '1', RELATIONS: RELATIONS.join(','), RELATION_THRESHOLD: threshold, ALLOW_MESSAGE_LABELS: 'true', THRESHOLD: '0.5' };
    service = await EnricherService.start({ config: serviceConfig(names, env), logger: createLogger(process.env.REL_LOG ?? 'warn') });
    try {
      await waitFor(async () => (await esCount(es, names.index)) === N, { timeoutMs: 240_000, intervalMs: 500, description: `${N} documents in ${names.index}` });
    } catch (err) {
      // Say why: what was dead-lettered, and how many documents did arrive.
      const dead = await consumeAll(names.dlq, { until: N, timeoutMs: 30_000 }).catch(() => []);
      const why = dead.slice(0, 3).map((r) => JSON.stringify(r.headers)).join('; ');
      throw new Error(`${(err as Error).message}; ${await esCount(es, names.index)} indexed, ${dead.length} dead-lettered: ${why}`);
    }
    const records = await consumeAll(names.output, { until: N, timeoutMs: 60_000 });
    outputs = new Map(records.map((r) => [r.key!, JSON.parse(r.value!) as EnrichedArticle]));
    docs = await allDocs<EnrichedArticle>(es, names.index);
  }, 300_000);

  afterAll(async () => {
    await service?.close();
    await deletePipelineTopics(names);
    await resources.cleanup();
    await es.close();
  });

  it('indexes and produces every article with relations between its own entities at exact offsets', () => {
    expect(docs.size).toBe(N);
    expect(outputs.size).toBe(N);
    let relations = 0;
    let multiWindow = 0;
    for (const a of articles) {
      const doc = docs.get(a.id)!;
      expect(doc.enrichment.model).toBe(modelName);
      const asked = a.relations ?? RELATIONS;
      expect(doc.enrichment.relations).toEqual(asked);
      expect(doc.relations).toEqual(outputs.get(a.id)!.relations);
      if (doc.enrichment.windows > 1 && doc.relations.length > 0) multiWindow++;
      const entityKeys = new Set(doc.entities.map((e) => `${e.field}:${e.start}:${e.end}:${e.label}`));
      for (const r of doc.relations) {
        const text = doc[r.field] as string;
        expect(text.slice(r.head.start, r.head.end)).toBe(r.head.text);
        expect(text.slice(r.tail.start, r.tail.end)).toBe(r.tail.text);
        expect(asked).toContain(r.relation);
        expect(r.score).toBeGreaterThan(Number(threshold));
        // The head is one of the article's entities; so is a native model's tail.
        expect(entityKeys.has(`${r.field}:${r.head.start}:${r.head.end}:${r.head.label}`), JSON.stringify(r)).toBe(true);
        if (modelName === 'tiny-span-relex') expect(entityKeys.has(`${r.field}:${r.tail.start}:${r.tail.end}:${r.tail.label}`), JSON.stringify(r)).toBe(true);
        relations++;
      }
    }
    expect(docs.get(articles[2]!.id)!.relations).toEqual([]);
    expect(relations).toBeGreaterThan(N);
    expect(multiWindow).toBeGreaterThan(0);
  });

  it('answers the documented relation query and the top relation pairs as the records say', async () => {
    // The most frequent (relation, tail) of organization-labelled heads and tails... any labels: take the records' own most common one.
    const counts = new Map<string, Set<string>>();
    for (const o of outputs.values()) {
      for (const r of o.relations) {
        if (r.tail.label === null) continue;
        const key = JSON.stringify([r.relation, r.head.label, r.tail.label, r.tail.text.toLowerCase()]);
        if (!counts.has(key)) counts.set(key, new Set());
        counts.get(key)!.add(o.id);
      }
    }
    const [key, ids] = [...counts].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0]!;
    const [relation, headLabel, tailLabel, tail] = JSON.parse(key) as [string, string, string, string];
    const body = renderQuery(loadQuery('articles-by-relation.json'), { relation, head_label: headLabel, tail_label: tailLabel, tail, from: '2000-01-01', to: '2100-01-01', size: N });
    const res = await es.search({ index: names.index, ...(body as object) });
    expect(res.hits.hits.map((h) => h._id).sort()).toEqual([...ids].sort());

    const pairs = renderQuery(loadQuery('top-relation-pairs.json'), { from: '2000-01-01', to: '2100-01-01', size: 3 });
    const agg = (await es.search({ index: names.index, ...(pairs as object) })) as unknown as {
      aggregations: { relations: { by_relation: { buckets: Array<{ key: string; doc_count: number }> } } };
    };
    const byRelation = new Map<string, number>();
    for (const o of outputs.values()) for (const r of o.relations) byRelation.set(r.relation, (byRelation.get(r.relation) ?? 0) + 1);
    for (const b of agg.aggregations.relations.by_relation.buckets) expect(b.doc_count, b.key).toBe(byRelation.get(b.key));
  });
});
