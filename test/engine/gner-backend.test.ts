/**
 * The GNER backend as the product runs it, on the tiny-gner fixture (random weights: it writes
 * no tags, so no entities; what is checked is the path, the contract and the failures):
 * the pool with a worker thread and on the calling thread, `extract --backend gner`, and the
 * start-up checks. Parsing and generation themselves are checked against the references in
 * test/parity/gner.test.ts and test/unit/gner/.
 */
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config-load.js';
import { GnerPool } from '../../src/gner/gner-pool.js';
import { preflightGner } from '../../src/gner/gner-preflight.js';
import { FIXTURES } from '../helpers/golden.js';

const GNER = `${FIXTURES}models/tiny-gner`;
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const SETTINGS = { batchSize: 4, maxSourceTokens: 640, maxNewTokens: 24, groupWords: 0 };
const decode = { threshold: 0.5, flatNer: true, multiLabel: false };
const logger = pino({ level: 'silent' });
const TEXT = 'Angela Merkel visited Paris on Monday. She met Emmanuel Macron.\nZürich was next 😀.';

describe('GnerPool on tiny-gner', () => {
  const pools: GnerPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  for (const workers of [1, 0]) {
    it(`extracts an article sentence by sentence with ${workers} worker thread(s); close is idempotent`, async () => {
      const pool = await GnerPool.start({ modelDir: GNER, load: { intraOpThreads: 1 }, settings: SETTINGS, workers, logger });
      pools.push(pool);
      expect(pool.model).toMatchObject({ name: 'tiny-gner', backend: 'gner', spanMode: 'generative', file: 'onnx/decoder_model_merged.onnx' });
      const [title, body] = await pool.extract({ fields: [{ field: 'title', text: 'Merkel in Paris' }, { field: 'body', text: TEXT }], labels: ['person', 'location'], decode });
      expect(title).toMatchObject({ field: 'title', windows: 1, words: 3 });
      expect(body).toMatchObject({ field: 'body', windows: 3 });
      // Random weights write no tags: the offsets of real answers are checked with a fake GNER in test/unit/gner/.
      expect([...title!.entities, ...body!.entities]).toEqual([]);
      await expect(pool.extract({ fields: [{ field: 'body', text: 'x' }], labels: ['per(son)'], decode })).rejects.toMatchObject({ code: 'LABELS_INVALID' });
      await expect(pool.extract({ fields: [{ field: 'body', text: 'x' }], labels: ['person'], decode, relations: { names: ['met'], threshold: 0.5 } })).rejects.toMatchObject({ code: 'OPTIONS_INVALID' });
      const aborted = new AbortController();
      aborted.abort();
      await expect(pool.extract({ fields: [{ field: 'body', text: TEXT }], labels: ['person'], decode }, aborted.signal)).rejects.toMatchObject({ code: 'ABORTED' });
      await Promise.all([pool.close(), pool.close()]);
      await expect(pool.extract({ fields: [{ field: 'body', text: 'x' }], labels: ['person'], decode })).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    });
  }

  it('rejects a folder that is not a GNER export, at start', async () => {
    await expect(GnerPool.start({ modelDir: `${FIXTURES}models/tiny-span`, load: {}, settings: SETTINGS, workers: 1, logger })).rejects.toMatchObject({ code: 'MODEL_FILE_MISSING' });
  });
});

describe('GNER start-up checks', () => {
  const config = (env: Record<string, string>) => loadConfig({ env: { MODEL_DIR: GNER, MODEL_BACKEND: 'gner', ...env } });

  it('accepts the fixture and resolves the prompt budget', () => {
    const checked = preflightGner(config({ LABELS: 'person,location' }));
    expect(checked.promptTokens).toBeGreaterThan(50);
    expect(checked.sentenceTokens).toBe(640 - checked.promptTokens - 1);
  });

  it('refuses labels GNER cannot write, a budget without room, an unknown variant, and relations', () => {
    expect(() => preflightGner(config({ LABELS: 'person,org(anisation)' }))).toThrow(/bracket, comma or line break/);
    expect(() => preflightGner(config({ LABELS: 'person', GNER_MAX_SOURCE_TOKENS: '100' }))).toThrow(/leaving no room for a sentence/);
    expect(() => preflightGner(config({ MODEL_VARIANT: 'opt_int8' }))).toThrow(/unknown GNER model variant/);
    expect(() => preflightGner(config({ MODEL_VARIANT: 'int8' }))).toThrow(/lacks onnx\/encoder_model_int8.onnx/);
    expect(() => config({ RELATIONS: 'works for' })).toThrow(/RELATIONS need a GLiNER model/);
  });
});

describe('news-enricher extract --backend gner', () => {
  it('enriches JSONL with the GNER fixture and reports the backend', () => {
    const lines = [JSON.stringify({ id: 'g1', title: 'Merkel in Paris', body: TEXT }), '{"id": "broken"', JSON.stringify({ id: 'g2', body: 'Short one.' })];
    const r = spawnSync(process.execPath, [CLI, 'extract', '--backend', 'gner', '--model', GNER, '--labels', 'person,location'], {
      input: `${lines.join('\n')}\n`,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn', GNER_MAX_NEW_TOKENS: '24' },
    });
    expect(r.status, r.stderr).toBe(3); // one line failed
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(out.map((o) => o.id)).toEqual(['g1', 'g2']);
    expect(out[0]!.enrichment).toMatchObject({ model: 'tiny-gner', backend: 'gner', model_file: 'onnx/decoder_model_merged.onnx', labels: ['person', 'location'], windows_by_field: { title: 1, body: 3 } });
    expect(r.stderr).toContain('"MESSAGE_INVALID_JSON"');
  });
});
