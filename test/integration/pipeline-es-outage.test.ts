/**
 * Elasticsearch outage: the node is stopped for 30 s in the middle of the stream and started
 * again with its data. Nothing is lost, nothing is dead-lettered, /readyz goes 503 and back
 * to 200, and no offset is committed past work that was not indexed.
 *
 * The test runs its own Elasticsearch (separate state dir and ports, through
 * scripts/services.sh) so stopping it cannot disturb other test files. To check commits
 * exactly, writes to the index are blocked (index.blocks.write) just before the stop and
 * unblocked after the restart: the documents present when the block is set are then the only
 * ones that can exist until it is lifted, and every offset committed meanwhile must be
 * covered by them.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsResources, waitFor, waitForEsHealthy } from '../helpers/es.js';
import { consumeAll, produce, type ConsumedMessage } from '../helpers/kafka.js';
import { freePort, removeServiceDir, REPO_ROOT, startService, stopService } from '../helpers/services.js';
import { generateArticles } from '../helpers/news.js';
import { allIds, committedOffsets, createPipelineTopics, deletePipelineTopics, esCount, jsonMessages, serviceEnv, trackEs, uniquePipelineNames } from '../helpers/pipeline.js';
import { ServiceProcess } from '../helpers/service-process.js';

const N = 1500;
const OUTAGE_MS = 30_000;

async function readyz(port: number): Promise<{ status: number; body: { checks?: Record<string, { ok: boolean; detail?: string }> } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

describe('Elasticsearch outage (30 s, node stopped and restarted with its data)', () => {
  const names = uniquePipelineNames('es-outage');
  const svcDir = `${REPO_ROOT}.cache/svc-outage-${names.index}`;
  let esEnv: Record<string, string>;
  let esUrl: string;
  let es: Client;
  let resources: EsResources;
  let input: ConsumedMessage[];

  beforeAll(async () => {
    esEnv = { SVC_DIR: svcDir, ES_PORT: String(await freePort()), ES_TRANSPORT_PORT: String(await freePort()) };
    esUrl = await startService('es', { env: esEnv, timeoutMs: 300_000 });
    es = new Client({ node: esUrl, requestTimeout: 10_000, maxRetries: 0 });
    resources = new EsResources(es);
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 3 });
    await produce(names.input, jsonMessages(generateArticles(N, { seed: 13, longEvery: 0, shortSentences: [2, 4], idPrefix: 'out' })));
    input = await consumeAll(names.input, { until: N, timeoutMs: 60_000 });
  }, 360_000);

  afterAll(async () => {
    await deletePipelineTopics(names);
    await es?.close();
    await stopService('es', { env: esEnv }).catch(() => undefined);
    await removeServiceDir(svcDir);
  }, 120_000);

  it('pauses, reports not ready, commits nothing unindexed, and resumes without loss', async () => {
    const service = ServiceProcess.start('enricher', serviceEnv(names, { ELASTICSEARCH_URL: esUrl, LOG_LEVEL: 'info', QUEUE_MAX_ARTICLES: '32' }));
    // The exit-code check runs only after a clean pass, so it cannot hide the first failure.
    let passed = false;
    try {
      const port = await service.started();
      expect((await readyz(port)).status).toBe(200);
      await waitFor(async () => (await esCount(es, names.index)) >= N / 10, { timeoutMs: 120_000, intervalMs: 100, description: 'progress before the outage' });

      // Freeze what is indexed, then take the node down.
      const failuresBefore = await service.metric(port, 'enricher_es_bulk_failures_total');
      await es.indices.putSettings({ index: names.index, settings: { 'index.blocks.write': true } });
      // Sink rounds run one at a time: once a bulk has failed on the block, none is still writing.
      await waitFor(async () => (await service.metric(port, 'enricher_es_bulk_failures_total')) > failuresBefore, {
        timeoutMs: 20_000,
        intervalMs: 100,
        description: 'a bulk refused by the write block',
      });
      const indexedBefore = new Set(await allIds(es, names.index));
      expect(indexedBefore.size).toBeLessThan(N);
      const samples: Array<Map<number, number>> = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          try {
            samples.push(await committedOffsets(names.group, names.input));
          } catch (err) {
            // A retriable hiccup of the shared broker (e.g. metadata moving) skips one sample.
            if ((err as { retriable?: boolean }).retriable !== true) throw err;
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      })();

      const stoppedAt = Date.now();
      await stopService('es', { env: esEnv });
      // Not ready, and for the right reason: Elasticsearch is unreachable.
      await waitFor(
        async () => {
          const r = await readyz(port);
          return r.status === 503 && /unreachable/i.test(r.body.checks?.['elasticsearch']?.detail ?? '');
        },
        { timeoutMs: 20_000, intervalMs: 200, description: '/readyz 503 with Elasticsearch unreachable' },
      );
      // Articles pile up in flight while the sink is down; sampled until seen (one sample right
      // after /readyz turned could fall between a batch leaving inference and reaching the sink).
      await waitFor(async () => (await service.metric(port, 'enricher_queue_articles')) > 0, {
        timeoutMs: 15_000,
        intervalMs: 200,
        description: 'articles held in flight during the outage',
      });
      expect(await service.metric(port, 'enricher_paused_partitions')).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())));
      expect((await readyz(port)).status).toBe(503);

      await startService('es', { env: esEnv, keepData: true, timeoutMs: 300_000 });
      await waitForEsHealthy(es);
      await es.indices.putSettings({ index: names.index, settings: { 'index.blocks.write': null } });
      sampling = false;
      await sampler;

      await waitFor(async () => (await readyz(port)).status === 200, { timeoutMs: 30_000, intervalMs: 200, description: '/readyz 200 again' });
      await waitFor(async () => (await esCount(es, names.index)) >= N, { timeoutMs: 180_000, intervalMs: 250, description: 'all documents after the outage' });

      // Every offset committed while writes were impossible covers only documents indexed before.
      expect(samples.length).toBeGreaterThan(20);
      for (const sample of samples) {
        for (const m of input) {
          if (Number(m.offset) < (sample.get(m.partition) ?? 0)) expect(indexedBefore.has(m.key!), `${m.key} committed but not indexed`).toBe(true);
        }
      }
      expect((await allIds(es, names.index)).sort()).toEqual(input.map((m) => m.key!).sort());
      expect(await service.metric(port, 'enricher_messages_dead_lettered_total')).toBe(0);
      expect(await service.metric(port, 'enricher_messages_out_total')).toBeGreaterThanOrEqual(N - indexedBefore.size);
      passed = true;
    } finally {
      service.kill('SIGTERM');
      const { code } = await service.exited;
      if (passed) expect(code, service.tail()).toBe(0);
    }
    await resources.cleanup();
  }, 420_000);
});
