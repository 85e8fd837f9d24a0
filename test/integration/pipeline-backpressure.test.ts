/**
 * Backpressure: 5,000 backlogged messages of 40 KB (200 MB), a queue of 16 articles and a
 * slow model (the real tiny extractor behind a delay, wrapped in the test — no test knob in
 * the service). Memory stays flat, the queue never exceeds its bound, partitions are paused
 * and resumed, and what was committed is exactly what is done.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExtractor } from '../../src/inference/create-extractor.js';
import type { EntityExtractor } from '../../src/core/extraction.js';
import { createLogger } from '../../src/logger.js';
import { EnricherService } from '../../src/pipeline/service.js';
import { createEsClient, EsResources, waitFor } from '../helpers/es.js';
import { consumeAll, produce, type ConsumedMessage } from '../helpers/kafka.js';
import { allIds, committedOffsets, createPipelineTopics, deletePipelineTopics, serviceConfig, trackEs, uniquePipelineNames } from '../helpers/pipeline.js';
import { sumMetric } from '../helpers/service-process.js';

const N = 5000;
const PADDING = 'lorem ipsum dolor sit amet '.repeat(1480); // ~40 KB carried through, not extracted
const QUEUE = 16;
const DELAY_MS = 15;
/** Articles to process while measuring (the rest stays backlogged). */
const DONE = 800;

/** The real extractor, slowed down. */
function slow(inner: EntityExtractor, delayMs: number): EntityExtractor {
  return {
    get model() {
      return inner.model;
    },
    async extract(request, signal) {
      await new Promise((r) => setTimeout(r, delayMs));
      return inner.extract(request, signal);
    },
    close: () => inner.close(),
  };
}

// Retained memory, not garbage: a full collection before each sample.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

function retained(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('backpressure with a slow model and a large backlog', () => {
  const names = uniquePipelineNames('backpressure');
  const es = createEsClient();
  const resources = new EsResources(es);
  let input: ConsumedMessage[] = [];

  beforeAll(async () => {
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 3 });
    for (let start = 0; start < N; start += 20) {
      await produce(
        names.input,
        Array.from({ length: 20 }, (_, i) => {
          const id = `bp-${String(start + i).padStart(5, '0')}`;
          return { key: id, value: JSON.stringify({ id, title: `Report ${start + i}`, body: `Maria Lindqvist met Daniel Okafor in Lisbon on day ${start + i}.`, padding: PADDING }) };
        }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await deletePipelineTopics(names);
    await resources.cleanup();
    await es.close();
  });

  it('keeps memory and the queue bounded, pausing and resuming the partitions', async () => {
    const config = serviceConfig(names, { QUEUE_MAX_ARTICLES: String(QUEUE), INFERENCE_CONCURRENCY: '4' });
    const logger = createLogger('warn');
    const extractor = slow(await createExtractor(config, logger), DELAY_MS);
    const baseline = retained();
    const service = await EnricherService.start({ config, logger, extractor, processMetrics: false });
    const t0 = performance.now();
    let peak = 0;
    let maxQueue = 0;
    const queueSampler = setInterval(() => {
      maxQueue = Math.max(maxQueue, service.inFlight);
    }, 20);
    const memorySampler = setInterval(() => {
      peak = Math.max(peak, retained());
    }, 250);
    try {
      await waitFor(async () => sumMetric(await service.metrics.registry.metrics(), 'enricher_messages_out_total') >= DONE, {
        timeoutMs: 120_000,
        intervalMs: 250,
        description: `${DONE} articles done`,
      });
    } finally {
      clearInterval(queueSampler);
      clearInterval(memorySampler);
    }
    const metrics = await service.metrics.registry.metrics();
    const result = await service.close();
    expect(result.drained).toBe(true);

    const done = sumMetric(metrics, 'enricher_messages_out_total');
    process.stderr.write(
      `[backpressure] ${done} of ${N} done in ${((performance.now() - t0) / 1000).toFixed(1)} s; retained memory peak ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB over the baseline; ` +
        `pauses ${sumMetric(metrics, 'enricher_backpressure_pauses_total')}, resumes ${sumMetric(metrics, 'enricher_backpressure_resumes_total')}\n`,
    );
    expect(done).toBeGreaterThanOrEqual(DONE);
    expect(done, 'the backlog is still there: the test measured a backlog, not an empty topic').toBeLessThan(N);
    expect(maxQueue).toBeLessThanOrEqual(QUEUE);
    expect(sumMetric(metrics, 'enricher_backpressure_pauses_total')).toBeGreaterThan(0);
    expect(sumMetric(metrics, 'enricher_backpressure_resumes_total')).toBeGreaterThan(0);
    // 200 MB of backlog; the service retains at most a queue and a fetch of it.
    expect(peak - baseline).toBeLessThan(48 * 2 ** 20);

    // Committed = done: everything below the committed offsets is indexed, nothing above.
    input = await consumeAll(names.input, { until: N, timeoutMs: 60_000 });
    const committed = await committedOffsets(names.group, names.input);
    const below = input.filter((m) => Number(m.offset) < (committed.get(m.partition) ?? 0)).map((m) => m.key!);
    await waitFor(async () => (await allIds(es, names.index)).length === below.length, { timeoutMs: 10_000, description: 'index settled' });
    expect((await allIds(es, names.index)).sort()).toEqual(below.sort());
  }, 180_000);
});
