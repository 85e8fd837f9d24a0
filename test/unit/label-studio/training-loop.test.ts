/**
 * The training loop's parts that need no Python: per-target conversion, and the refusals
 * when training cannot run (no checkpoint, no Label Studio API for a webhook).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config-load.js';
import type { EntityExtractor } from '../../../src/core/extraction.js';
import { parseLabelConfig } from '../../../src/label-studio/label-config.js';
import { ModelSlot, ServedModel } from '../../../src/label-studio/served-model.js';
import { examplesForTargets, TrainingLoop } from '../../../src/label-studio/training-loop.js';

const logger = pino({ level: 'silent' });
const extractor = { model: { name: 'm', sha256: '0'.repeat(64) }, extract: async () => [], close: async () => undefined } as unknown as EntityExtractor;

describe('examplesForTargets', () => {
  it('gives each Labels/Text pair its own regions and text field', () => {
    const targets = parseLabelConfig(
      '<View><Labels name="tl" toName="title"><Label value="PER"/></Labels><Text name="title" value="$title"/><Labels name="bl" toName="body"><Label value="LOC"/></Labels><Text name="body" value="$body"/></View>',
    );
    const region = (from: string, to: string, start: number, end: number, label: string) => ({ from_name: from, to_name: to, type: 'labels', value: { start, end, labels: [label] } });
    const { examples, skipped } = examplesForTargets(
      [{ id: 1, data: { title: 'Merkel speaks', body: 'In Paris today' }, annotations: [{ id: 9, result: [region('tl', 'title', 0, 6, 'PER'), region('bl', 'body', 3, 8, 'LOC')] }] }],
      targets,
      { PER: 'person', LOC: 'location' },
    );
    expect(skipped).toEqual([]);
    expect(examples).toEqual([
      { id: 'label-studio-1-title', text: 'Merkel speaks', tokenized_text: ['Merkel', 'speaks'], ner: [[0, 0, 'person']] },
      { id: 'label-studio-1-body', text: 'In Paris today', tokenized_text: ['In', 'Paris', 'today'], ner: [[1, 1, 'location']] },
    ]);
  });
});

describe('TrainingLoop refusals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-train-'));
  const slot = new ModelSlot(new ServedModel(extractor, join(dir, 'model'), {}));
  const loop = (env: Record<string, string>, client?: object) =>
    new TrainingLoop({ config: loadConfig({ env: { MODEL_DIR: join(dir, 'model'), ...env } }), slot, client: client as never, loadModel: async () => slot.current, logger });

  it('is disabled, saying why, without a checkpoint; a training request is then refused with a code', () => {
    const l = loop({});
    expect(l.status()).toMatchObject({ state: 'disabled', reason: expect.stringContaining('no PyTorch checkpoint') });
    expect(() => l.request({ id: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('refuses a LABEL_STUDIO_TRAIN_INIT that is no checkpoint at start-up', () => {
    expect(() => loop({ LABEL_STUDIO_TRAIN_INIT: join(dir, 'nowhere') })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('refuses a webhook round (tasks to export) without the Label Studio API', () => {
    const ckpt = join(dir, 'ckpt');
    mkdirSync(ckpt, { recursive: true });
    writeFileSync(join(ckpt, 'gliner_config.json'), '{}');
    const l = loop({ LABEL_STUDIO_TRAIN_INIT: ckpt, LABEL_STUDIO_PYTHON: process.execPath });
    expect(l.status().state).toBe('idle');
    expect(() => l.request({ id: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('LABEL_STUDIO_URL') }));
  });
});

describe('Label Studio settings', () => {
  it('refuses half a pair at start-up (URL without key, user without password) and a malformed label map', () => {
    for (const env of [{ LABEL_STUDIO_URL: 'http://ls:8080' }, { LABEL_STUDIO_API_KEY: 'k' }, { BASIC_AUTH_USER: 'u' }, { BASIC_AUTH_PASS: 'p' }, { LABEL_STUDIO_LABEL_MAP: 'PER' }]) {
      expect(() => loadConfig({ env }), JSON.stringify(env)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
    expect(loadConfig({ env: { LABEL_STUDIO_URL: 'http://ls:8080', LABEL_STUDIO_API_KEY: 'k', LABEL_STUDIO_LABEL_MAP: 'PER=person' } }).labelStudio).toMatchObject({ url: 'http://ls:8080', labelMap: { PER: 'person' } });
  });
});
