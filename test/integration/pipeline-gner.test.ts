/**
 * The GNER backend in the service, through real Kafka and real Elasticsearch: MODEL_BACKEND=gner
 * on the tiny-gner fixture (random weights: it writes no tags, so articles carry no entities; the
 * entities themselves are checked against the references in test/parity/gner.test.ts). Every
 * article reaches Elasticsearch and the output topic with `enrichment.backend` = gner and one
 * prompt per sentence; a message asking relations is dead-lettered (MESSAGE_SCHEMA), and the
 * start-up refuses relations for a GNER model before anything opens.
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

const N = 6;

describe('GNER backend end to end (real Kafka and Elasticsearch)', () => {
  const names = uniquePipelineNames('gner');
  const es = createEsClient();
  const resources = new EsResources(es);
  const articles: Array<NewsArticle & { relations?: string[] }> = generateArticles(N, { seed: 31, longEvery: 3, longWords: 600, shortSentences: [2, 4], idPrefix: 'gner' });
  articles[N - 1]!.relations = ['works for'];
  const env = { MODEL_DIR: `${FIXTURES}models/tiny-gner`, MODEL_BACKEND: 'gner', INFERENCE_WORKERS: '1', GNER_MAX_NEW_TOKENS: '16', LABELS: 'person,organization,location' };
  let service: EnricherService | undefined;
  let outputs: Map<string, EnrichedArticle>;
  let docs: Map<string, EnrichedArticle>;
  let dead: Awaited<ReturnType<typeof consumeAll>>;

  beforeAll(async () => {
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 2 });
    await produce(names.input, jsonMessages(articles));
    service = await EnricherService.start({ config: serviceConfig(names, env), logger: createLogger(process.env.GNER_LOG ?? 'warn') });
    await waitFor(async () => (await esCount(es, names.index)) === N - 1, { timeoutMs: 120_000, intervalMs: 500, description: `${N - 1} documents in ${names.index}` });
    outputs = new Map((await consumeAll(names.output, { until: N - 1, timeoutMs: 60_000 })).map((r) => [r.key!, JSON.parse(r.value!) as EnrichedArticle]));
    dead = await consumeAll(names.dlq, { until: 1, timeoutMs: 60_000 });
    docs = await allDocs<EnrichedArticle>(es, names.index);
  }, 200_000);

  afterAll(async () => {
    await service?.close();
    await deletePipelineTopics(names);
    await resources.cleanup();
    await es.close();
  });

  it('indexes and produces every article with the backend, model and prompts recorded', async () => {
    expect(docs.size).toBe(N - 1);
    expect(outputs.size).toBe(N - 1);
    for (const a of articles.slice(0, N - 1)) {
      const doc = docs.get(a.id)!;
      expect(doc.enrichment).toMatchObject({ backend: 'gner', model: 'tiny-gner', model_file: 'onnx/decoder_model_merged.onnx', labels: ['person', 'organization', 'location'] });
      expect(doc.enrichment.windows_by_field['body']).toBeGreaterThanOrEqual(2); // a prompt per sentence
      expect(doc).toEqual(outputs.get(a.id));
    }
    const mapping = await es.indices.getMapping({ index: names.index });
    const props = Object.values(mapping)[0]!.mappings.properties!['enrichment'] as { properties: Record<string, { type: string }> };
    expect(props.properties['backend']!.type).toBe('keyword');
  });

  it('dead-letters a message that asks relations of a GNER model', () => {
    expect(dead).toHaveLength(1);
    expect(dead[0]!.key).toBe(articles[N - 1]!.id);
    expect(dead[0]!.headers['x-error-code']).toBe('MESSAGE_SCHEMA');
  });

  it('refuses RELATIONS for a GNER model when the configuration is read, before anything opens', () => {
    expect(() => serviceConfig(uniquePipelineNames('gner-bad'), { ...env, RELATIONS: 'works for' })).toThrow(/RELATIONS need a GLiNER model/);
  });
});
