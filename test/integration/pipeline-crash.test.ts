/**
 * Crash safety: the service (`node dist/cli.js run`, a child process) is SIGKILLed in the
 * middle of the stream and started again. Every article ends up in Elasticsearch exactly
 * once by id; on the output topic at least once (default) or exactly once for a
 * read_committed consumer (exactly-once mode).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEsClient, EsResources, waitFor } from '../helpers/es.js';
import { produce } from '../helpers/kafka.js';
import { generateArticles } from '../helpers/news.js';
import { allIds, createPipelineTopics, deletePipelineTopics, esCount, jsonMessages, readCommittedKeys, serviceEnv, trackEs, uniquePipelineNames, type PipelineNames } from '../helpers/pipeline.js';
import { ServiceProcess } from '../helpers/service-process.js';

const N = 600;

async function crashAndRecover(names: PipelineNames, exactlyOnce: boolean, es: ReturnType<typeof createEsClient>): Promise<{ ids: string[]; output: string[]; killedAt: number }> {
  await createPipelineTopics(names, { partitions: 3 });
  const articles = generateArticles(N, { seed: exactlyOnce ? 21 : 20, longEvery: 40, longWords: 2100, shortSentences: [2, 5], idPrefix: exactlyOnce ? 'eos' : 'alo' });
  await produce(names.input, jsonMessages(articles));
  const env = serviceEnv(names, { LOG_LEVEL: 'info', KAFKA_EXACTLY_ONCE: String(exactlyOnce), KAFKA_SESSION_TIMEOUT_MS: '6000', QUEUE_MAX_ARTICLES: '64' });

  const t0 = Date.now();
  const mark = (what: string): void => void process.stderr.write(`[crash ${exactlyOnce ? 'eos' : 'alo'}] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const first = ServiceProcess.start('first', env);
  await first.started();
  mark('first started');
  const killedAt = await waitFor(
    async () => {
      const n = await esCount(es, names.index);
      return n >= N / 5 ? n : 0;
    },
    { timeoutMs: 120_000, intervalMs: 100, description: 'some progress before the crash' },
  );
  first.kill('SIGKILL');
  mark(`killed after ${killedAt} documents`);
  const exit = await first.exited;
  expect(exit.signal).toBe('SIGKILL');
  expect(killedAt, 'killed mid-stream, not after the end').toBeLessThan(N);

  const second = ServiceProcess.start('second', env);
  try {
    await second.started();
    mark('second started');
    await waitFor(async () => (await esCount(es, names.index)) >= N, { timeoutMs: 180_000, intervalMs: 250, description: `${N} documents after the restart` });
    mark('all documents indexed');
    const ids = await allIds(es, names.index);
    const output = await readCommittedKeys(names.output, N);
    mark('output read');
    return { ids, output, killedAt };
  } finally {
    second.kill('SIGTERM');
    const code = await second.exited;
    expect(code.code, second.tail()).toBe(0);
  }
}

describe('crash (SIGKILL) and restart', () => {
  const es = createEsClient();
  const resources = new EsResources(es);
  const created: PipelineNames[] = [];

  afterAll(async () => {
    for (const n of created) await deletePipelineTopics(n);
    await resources.cleanup();
    await es.close();
  });

  it('at-least-once: every article in Elasticsearch exactly once by id, at least once on the output topic', async () => {
    const names = uniquePipelineNames('crash-alo');
    created.push(names);
    trackEs(resources, names);
    const { ids, output } = await crashAndRecover(names, false, es);
    expect(ids).toHaveLength(N);
    expect(new Set(ids).size).toBe(N);
    expect(new Set(output).size).toBe(N);
    expect(output.length).toBeGreaterThanOrEqual(N);
  }, 300_000);

  it('exactly-once: every article exactly once on the output topic for a read_committed consumer', async () => {
    const names = uniquePipelineNames('crash-eos');
    created.push(names);
    trackEs(resources, names);
    const { ids, output } = await crashAndRecover(names, true, es);
    expect(ids).toHaveLength(N);
    expect(new Set(ids).size).toBe(N);
    expect(output).toHaveLength(N);
    expect(new Set(output).size).toBe(N);
  }, 300_000);
});
