/**
 * Graceful stop: SIGTERM in the middle of the stream. The service finishes what it admitted,
 * commits and exits 0; the committed offsets cover exactly the articles in Elasticsearch;
 * a second run picks up everything after them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEsClient, EsResources, waitFor } from '../helpers/es.js';
import { consumeAll, produce, type ConsumedMessage } from '../helpers/kafka.js';
import { generateArticles } from '../helpers/news.js';
import { allIds, committedOffsets, createPipelineTopics, deletePipelineTopics, esCount, jsonMessages, serviceEnv, trackEs, uniquePipelineNames } from '../helpers/pipeline.js';
import { ServiceProcess } from '../helpers/service-process.js';

const N = 800;

describe('graceful stop (SIGTERM)', () => {
  const names = uniquePipelineNames('graceful');
  const es = createEsClient();
  const resources = new EsResources(es);
  let input: ConsumedMessage[];
  const env = serviceEnv(names, { LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '20000', QUEUE_MAX_ARTICLES: '64' });

  beforeAll(async () => {
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 3 });
    await produce(names.input, jsonMessages(generateArticles(N, { seed: 5, longEvery: 50, longWords: 2100, shortSentences: [2, 5], idPrefix: 'grace' })));
    input = await consumeAll(names.input, { until: N, timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await deletePipelineTopics(names);
    await resources.cleanup();
    await es.close();
  });

  it('drains, commits exactly what is indexed, exits 0, and a restart finishes the rest', async () => {
    const first = ServiceProcess.start('first', env);
    await first.started();
    await waitFor(async () => (await esCount(es, names.index)) >= N / 5, { timeoutMs: 120_000, intervalMs: 100, description: 'progress before SIGTERM' });
    const t0 = Date.now();
    first.kill('SIGTERM');
    const exit = await first.exited;
    const stopMs = Date.now() - t0;
    expect(exit.code, first.tail()).toBe(0);
    expect(stopMs).toBeLessThan(20_000);
    expect(first.lines.some((l) => l.msg === 'service closed' && l['drained'] === true), first.tail()).toBe(true);

    const committed = await committedOffsets(names.group, names.input);
    const below = input.filter((m) => Number(m.offset) < (committed.get(m.partition) ?? 0)).map((m) => m.key!);
    const indexed = await allIds(es, names.index);
    expect(indexed.length, 'stopped mid-stream').toBeLessThan(N);
    // Exactly: everything below the committed offsets is indexed, and nothing else is.
    expect([...indexed].sort()).toEqual([...below].sort());

    const second = ServiceProcess.start('second', env);
    try {
      await second.started();
      await waitFor(async () => (await esCount(es, names.index)) >= N, { timeoutMs: 120_000, intervalMs: 250, description: 'all documents after the restart' });
    } finally {
      second.kill('SIGTERM');
      expect((await second.exited).code, second.tail()).toBe(0);
    }
    expect((await allIds(es, names.index)).sort()).toEqual(input.map((m) => m.key!).sort());
    const out = await consumeAll(names.output, { until: (ms) => new Set(ms.map((m) => m.key)).size >= N, timeoutMs: 60_000 });
    expect(new Set(out.map((m) => m.key)).size).toBe(N);
    // Nothing was done twice across the stop: a clean stop leaves no duplicates behind.
    expect(out).toHaveLength(N);
  }, 300_000);
});
