import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEnricherError, type ErrorCode } from '../../src/errors.js';
import { GlinerEngine } from '../../src/inference/engine.js';
import { FIXTURES } from '../helpers/golden.js';

const MODEL = `${FIXTURES}models/tiny-span`;
let scratch: string;

/** A copy of the span fixture with `edit` applied (symlinked tokenizer files are copied as files). */
function variant(name: string, edit: (dir: string) => void): string {
  const dir = join(scratch, name);
  cpSync(MODEL, dir, { recursive: true, dereference: true });
  edit(dir);
  return dir;
}

function editConfig(dir: string, change: (c: Record<string, unknown>) => void): void {
  const path = join(dir, 'gliner_config.json');
  const c = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(c);
  writeFileSync(path, JSON.stringify(c));
}

async function codeOf(p: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isEnricherError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a failure');
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gliner-errors-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('model loading errors', () => {
  it('reports every missing file of the folder at once', async () => {
    const dir = variant('missing', (d) => {
      unlinkSync(join(d, 'tokenizer.json'));
      unlinkSync(join(d, 'onnx', 'model.onnx'));
    });
    const e = await codeOf(GlinerEngine.load(dir));
    expect(e.code).toBe('MODEL_FILE_MISSING');
    expect(e.message).toContain('tokenizer.json');
    expect(e.message).toContain('onnx/model.onnx');
    expect((await codeOf(GlinerEngine.load(join(scratch, 'nowhere')))).code).toBe('MODEL_FILE_MISSING');
    expect((await codeOf(GlinerEngine.load(MODEL, { executionProvider: 'cpu', variant: 'q4' }))).code).toBe('MODEL_FILE_MISSING');
  });

  it('refuses a class_token_index that differs from the tokenizer’s <<ENT>> id', async () => {
    const dir = variant('class-token', (d) => editConfig(d, (c) => (c.class_token_index = 128001)));
    const e = await codeOf(GlinerEngine.load(dir));
    expect(e.code).toBe('TOKENIZER_MISMATCH');
    expect(e.message).toMatch(/128001.*128002/);
  });

  it('refuses bi-encoder, token-level relation and non-whitespace-splitter models', async () => {
    const cases: Array<[string, (c: Record<string, unknown>) => void]> = [
      ['bi', (c) => (c.labels_encoder = 'BAAI/bge-small-en-v1.5')],
      ['token-relex', (c) => ((c.relations_layer = 'none'), (c.span_mode = 'token_level'))],
      ['relex-layer', (c) => (c.relations_layer = { name: 'none' })],
      ['splitter', (c) => (c.words_splitter_type = 'spacy')],
    ];
    for (const [name, change] of cases) {
      const e = await codeOf(GlinerEngine.load(variant(name, (d) => editConfig(d, change))));
      expect(e.code, name).toBe('MODEL_UNSUPPORTED');
    }
  });

  it('refuses a relation config without <<REL>> in the tokenizer, or on a graph without relation outputs', async () => {
    const noRel = await codeOf(GlinerEngine.load(variant('relex-no-token', (d) => editConfig(d, (c) => (c.relations_layer = 'none')))));
    expect(noRel.code).toBe('TOKENIZER_MISMATCH');
    expect(noRel.message).toContain('<<REL>>');
    // The relation fixture's folder with the entity-only graph: the probe finds no rel_idx output.
    const dir = join(scratch, 'relex-entity-graph');
    cpSync(`${FIXTURES}models/tiny-span-relex`, dir, { recursive: true, dereference: true });
    cpSync(`${MODEL}/onnx/model.onnx`, join(dir, 'onnx/model.onnx'));
    const noOutputs = await codeOf(GlinerEngine.load(dir));
    expect(noOutputs.code).toBe('MODEL_UNSUPPORTED');
    expect(noOutputs.message).toMatch(/rel_idx/);
  });

  it('refuses an unknown execution provider and a CUDA provider that is not installed, without falling back', async () => {
    expect((await codeOf(GlinerEngine.load(MODEL, { executionProvider: 'tpu' }))).code).toBe('EXECUTION_PROVIDER_UNAVAILABLE');
    const cuda = await codeOf(GlinerEngine.load(MODEL, { executionProvider: 'cuda' }));
    expect(cuda.code).toBe('EXECUTION_PROVIDER_UNAVAILABLE');
    expect(cuda.message).toMatch(/cuda/i);
  });
});

describe('request errors', () => {
  let engine: GlinerEngine;
  beforeAll(async () => {
    engine = await GlinerEngine.load(MODEL);
  });
  afterAll(() => engine?.close());

  it('rejects an empty label list and labels carrying prompt tokens', async () => {
    const base = { threshold: 0.5, flatNer: true, multiLabel: false };
    expect((await codeOf(engine.predict(['Paris'], { ...base, labels: [] }))).code).toBe('LABELS_INVALID');
    expect((await codeOf(engine.predict(['Paris'], { ...base, labels: ['city<<ENT>>'] }))).code).toBe('LABELS_INVALID');
    expect((await codeOf(engine.predict(['Paris'], { ...base, labels: ['<<SEP>>'] }))).code).toBe('LABELS_INVALID');
  });

  it('rejects out-of-range options', async () => {
    const base = { labels: ['city'], flatNer: true, multiLabel: false };
    expect((await codeOf(engine.predict(['Paris'], { ...base, threshold: 1.5 }))).code).toBe('OPTIONS_INVALID');
    expect((await codeOf(engine.predict(['Paris'], { ...base, threshold: 0.5, window: { maxWords: 1000 } }))).code).toBe('OPTIONS_INVALID');
    expect((await codeOf(engine.predict(['Paris'], { ...base, threshold: 0.5, window: { overlapWords: 5 } }))).code).toBe('OPTIONS_INVALID');
  });

  it('takes the batch limits by their names or, for one release, the 0.1.0 names; not both', async () => {
    expect((await codeOf(GlinerEngine.load(MODEL, { batchMaxItems: 0 }))).code).toBe('OPTIONS_INVALID');
    expect((await codeOf(GlinerEngine.load(MODEL, { maxBatchSize: 0 }))).code).toBe('OPTIONS_INVALID');
    expect((await codeOf(GlinerEngine.load(MODEL, { batchMaxItems: 2, maxBatchSize: 2 }))).code).toBe('OPTIONS_INVALID');
    expect((await codeOf(GlinerEngine.load(MODEL, { batchMaxTokens: 512, maxBatchTokens: 512 }))).code).toBe('OPTIONS_INVALID');
    const old = await GlinerEngine.load(MODEL, { maxBatchSize: 2, maxBatchTokens: 4096 });
    const opts = { labels: ['city'], threshold: 0.1, flatNer: true, multiLabel: false };
    try {
      expect(await old.predict(['Paris and Rome'], opts)).toEqual(await engine.predict(['Paris and Rome'], opts));
    } finally {
      await old.close();
    }
  });

  it('returns no entities and no windows for empty and whitespace-only texts', async () => {
    const r = await engine.predict(['', ' \n\t\u00A0'], { labels: ['city'], threshold: 0.1, flatNer: true, multiLabel: false });
    expect(r).toEqual([
      { entities: [], windows: 0, words: 0 },
      { entities: [], windows: 0, words: 0 },
    ]);
  });
});
