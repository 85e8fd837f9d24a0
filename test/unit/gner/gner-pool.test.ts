/**
 * GnerPool's worker life cycle with a worker entry that crashes on demand
 * (test/helpers/crashing-gner-worker.ts): a dead worker is replaced and its article retried once,
 * an article that stops two workers fails alone, the others go on; close is ordered and leaves no
 * replacement behind; an aborted article frees its worker.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GnerPool } from '../../../src/gner/gner-pool.js';

const SCRIPT = '../../test/helpers/crashing-gner-worker';
const settings = { batchSize: 4, maxSourceTokens: 640, maxNewTokens: 64, groupWords: 0 };
const decode = { threshold: 0.5, flatNer: true, multiLabel: false };
const start = (workers: number, dataset?: string) =>
  GnerPool.start({ modelDir: '/nonexistent', load: {}, settings: { ...settings, ...(dataset ? { dataset } : {}) }, workers, logger: pino({ level: 'silent' }), workerScript: SCRIPT });
const article = (text: string) => ({ fields: [{ field: 'body', text }], labels: ['person'], decode });

describe('GnerPool worker failures', () => {
  it('replaces a dead worker, fails only the article that stops two workers, and keeps serving', async () => {
    const pool = await start(1);
    try {
      const before = await pool.extract(article('one two three'));
      expect(before[0]).toMatchObject({ field: 'body', words: 3 });
      const poison = pool.extract(article('a CRASH here'));
      const after = pool.extract(article('four five'));
      await expect(poison).rejects.toMatchObject({ code: 'INFERENCE_FAILED', message: expect.stringContaining('two GNER workers') });
      await expect(after).resolves.toMatchObject([{ words: 2 }]);
      await expect(pool.extract(article('six'))).resolves.toHaveLength(1);
    } finally {
      await pool.close();
    }
  }, 20_000);

  it('with two workers, another idle worker takes the retried article at once', async () => {
    const pool = await start(2);
    try {
      const results = await Promise.allSettled([pool.extract(article('x CRASH')), pool.extract(article('fine')), pool.extract(article('also fine'))]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    } finally {
      await pool.close();
    }
  }, 20_000);

  it('fails the start when no worker can load, and an aborted article frees its worker', async () => {
    await expect(start(1, 'fail-load')).rejects.toMatchObject({ code: 'WORKER_INIT_FAILED' });
    const pool = await start(1);
    try {
      const controller = new AbortController();
      const slow = pool.extract(article('SLOW one'), controller.signal);
      controller.abort();
      await expect(slow).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(pool.extract(article('next one'))).resolves.toHaveLength(1);
    } finally {
      await pool.close();
    }
  }, 20_000);

  it('close rejects queued and in-flight articles, is idempotent, and leaves no replacement running', async () => {
    const pool = await start(1);
    const inFlight = pool.extract(article('SLOW a'));
    const queued = pool.extract(article('b'));
    const checks = [expect(inFlight).rejects.toMatchObject({ code: 'POOL_CLOSED' }), expect(queued).rejects.toMatchObject({ code: 'POOL_CLOSED' })];
    await Promise.all([pool.close(), pool.close()]);
    await Promise.all(checks);
    await expect(pool.extract(article('c'))).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  }, 20_000);
});
