import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEnricherError } from '../../src/errors.js';
import { GlinerEngine } from '../../src/inference/engine.js';
import { sha256File } from '../../src/gliner/model-dir.js';
import type { ExtractionRequest } from '../../src/core/extraction.js';
import { InferencePool, type BatchStats } from '../../src/inference/pool.js';
import { FIXTURES } from '../helpers/golden.js';

const MODEL = `${FIXTURES}models/tiny-span`;
const logger = pino({ level: 'silent' });
const decode = { threshold: 0.4, flatNer: true, multiLabel: false };
const LABELS = ['person', 'organization', 'location'];

const PARAGRAPHS = [
  'Microsoft was founded by Bill Gates and Paul Allen on April 4, 1975.',
  'Angela Merkel met Emmanuel Macron in Paris to discuss the European Union budget.',
  'Shares of Toyota rose in Tokyo after the company reported record profits.',
  'The Chihuahua State Public Security Secretariat arrested a man in Ciudad Juárez.',
];

function article(i: number): ExtractionRequest {
  const body = Array.from({ length: 1 + (i % 7) * 20 }, (_, k) => PARAGRAPHS[(i + k) % PARAGRAPHS.length]).join(' ');
  return { fields: [{ field: 'title', text: PARAGRAPHS[i % PARAGRAPHS.length]! }, { field: 'body', text: body }], labels: LABELS, decode };
}

describe('InferencePool', () => {
  let pool: InferencePool;
  let engine: GlinerEngine;
  const batches: BatchStats[] = [];

  beforeAll(async () => {
    const sha256 = await sha256File(`${MODEL}/onnx/model.onnx`);
    pool = await InferencePool.start({
      modelDir: MODEL,
      load: { executionProvider: 'cpu', intraOpThreads: 1, sha256 },
      workers: 2,
      batcher: { batchMaxItems: 8, batchMaxTokens: 8192, batchMaxWaitMs: 5 },
      logger,
      onBatch: (s) => batches.push(s),
    });
    engine = await GlinerEngine.load(MODEL, { executionProvider: 'cpu', batchMaxItems: 1 });
  });
  afterAll(async () => {
    await pool?.close();
    await engine?.close();
  });

  it('gives the in-process engine’s results for many concurrent articles, batching their windows together', async () => {
    const requests = Array.from({ length: 40 }, (_, i) => article(i));
    const got = await Promise.all(requests.map((r) => pool.extract(r)));
    for (const [i, r] of requests.entries()) {
      expect(got[i]).toEqual(await engine.extract(r));
    }
    expect(got.some((fields) => fields[1]!.windows > 1)).toBe(true);
    expect(batches.length).toBeGreaterThan(0);
    expect(Math.max(...batches.map((b) => b.items))).toBeGreaterThan(1);
    expect(pool.model.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails a request with bad labels alone, with its code', async () => {
    const good = pool.extract(article(1));
    const bad = pool.extract({ ...article(2), labels: ['ok', 'bad<<ENT>>'] });
    await expect(bad).rejects.toSatisfy((e: unknown) => isEnricherError(e, 'LABELS_INVALID'));
    await expect(good).resolves.toHaveLength(2);
  });

  it('honours an abort signal', async () => {
    const ac = new AbortController();
    const p = pool.extract(article(5), ac.signal);
    ac.abort();
    await expect(p).rejects.toSatisfy((e: unknown) => isEnricherError(e, 'ABORTED'));
  });

  it('fails start with the worker’s load error code', async () => {
    await expect(
      InferencePool.start({
        modelDir: `${FIXTURES}models/nowhere`,
        load: { executionProvider: 'cpu' },
        workers: 1,
        batcher: { batchMaxItems: 1, batchMaxTokens: 512, batchMaxWaitMs: 0 },
        logger,
      }),
    ).rejects.toSatisfy((e: unknown) => isEnricherError(e, 'MODEL_FILE_MISSING'));
  });

  it('closes idempotently and refuses work afterwards', async () => {
    const p = pool.close();
    expect(pool.close()).toBe(p);
    await p;
    await expect(pool.extract(article(0))).rejects.toSatisfy((e: unknown) => isEnricherError(e, 'POOL_CLOSED'));
  });
});
