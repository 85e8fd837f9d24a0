import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlinerEngine } from '../../src/gliner/engine.js';
import { encodeBatch } from '../../src/gliner/encode.js';
import { loadModel, type LoadedModel } from '../../src/gliner/model.js';
import { windowInput } from '../../src/gliner/preprocess.js';
import {
  FIXTURES,
  decodeFloat32,
  readJsonl,
  rows,
  sha256,
  toUtf16,
  type GoldenCase,
  type ParityCase,
} from '../helpers/golden.js';

/**
 * Parity with the reference `gliner` package on the fixture models. Golden files come
 * from models/golden.py (the reference's ONNX path, ORT 1.30.0). Three layers are
 * compared so a failure says where it starts: feeds (preprocessing), logits (session),
 * entities (decoding, batching, offsets).
 */

const cases = readJsonl<ParityCase>(`${FIXTURES}parity/cases.jsonl`);
const byId = new Map(cases.map((c) => [c.id, c]));

/** Reference semantics: a text within max_len is one pass, however many sub-tokens it has. */
const REFERENCE_WINDOW = { maxTokens: Infinity };

const SUITES = [
  { model: 'tiny-span', variant: 'fp32', golden: 'golden-tiny-span.jsonl', batch: 8 },
  { model: 'tiny-token', variant: 'fp32', golden: 'golden-tiny-token.jsonl', batch: 8 },
  // Dynamic int8 quantization depends on batch composition: the golden ran one text per batch.
  { model: 'tiny-span', variant: 'int8', golden: 'golden-tiny-span-int8.jsonl', batch: 1 },
] as const;

describe('parity corpus', () => {
  it('covers at least 40 texts with the required kinds of input', () => {
    const texts = cases.flatMap((c) => c.texts);
    expect(new Set(texts).size).toBeGreaterThanOrEqual(40);
    expect(texts).toContain('');
    expect(texts.some((t) => t !== '' && t.trim() === '')).toBe(true);
    expect(texts.some((t) => /\p{Extended_Pictographic}/u.test(t))).toBe(true);
    expect(texts.some((t) => t.includes('\uFEFF'))).toBe(true);
    expect(texts.some((t) => t.includes('\u200B'))).toBe(true);
    expect(texts.some((t) => /\p{Script=Han}/u.test(t))).toBe(true);
    expect(texts.some((t) => t.includes('Chihuahua'))).toBe(true);
    expect(texts.some((t) => t.includes('Bill Gates'))).toBe(true);
    for (const mode of [
      (c: ParityCase) => c.flat_ner && !c.multi_label,
      (c: ParityCase) => !c.flat_ner,
      (c: ParityCase) => c.multi_label,
    ]) {
      expect(cases.some(mode)).toBe(true);
    }
    for (const t of [0.1, 0.5, 0.9]) expect(cases.some((c) => c.threshold === t)).toBe(true);
    for (const n of [1, 3, 30]) expect(cases.some((c) => new Set(c.labels).size === n)).toBe(true);
    expect(cases.some((c) => c.texts.length >= 12 && c.batch_size > 1)).toBe(true);
  });
});

for (const suite of SUITES) {
  const dir = `${FIXTURES}models/${suite.model}`;
  const goldenPath = `${FIXTURES}parity/${suite.golden}`;
  describe(`parity ${suite.model} ${suite.variant}`, () => {
    const goldens = existsSync(goldenPath) ? readJsonl<GoldenCase>(goldenPath) : [];
    let engine: GlinerEngine;
    let loaded: LoadedModel;
    beforeAll(async () => {
      engine = await GlinerEngine.load(dir, { executionProvider: 'cpu', variant: suite.variant, maxBatchSize: suite.batch, maxBatchTokens: 1 << 20 });
      loaded = await loadModel(dir, { executionProvider: 'cpu', variant: suite.variant });
    });
    afterAll(async () => {
      await engine?.close();
      await loaded?.release();
    });

    it('has a golden result for every case', () => {
      expect(goldens.map((g) => g.id).sort()).toEqual(cases.map((c) => c.id).sort());
    });

    // Feeds do not depend on the ONNX variant; int8 logits are checked through its entities.
    if (suite.variant === 'fp32')
    it('builds the reference feeds and gets the reference logits for every reference batch', async () => {
      let batches = 0;
      let logitsChecked = 0;
      for (const g of goldens) {
        const c = byId.get(g.id)!;
        const prompt = loaded.preprocessor.prompt(c.labels);
        const limits = loaded.preprocessor.limits(prompt, REFERENCE_WINDOW);
        for (const b of g.batches) {
          // The reference cut texts beyond max_len to their first max_len words; we window them instead.
          if (b.text_indices.some((i) => g.word_counts[i]! > g.max_len)) continue;
          const inputs = b.text_indices.map((i) => {
            const p = loaded.preprocessor.prepareText(c.texts[i]!, limits);
            expect(p.windows).toHaveLength(1);
            return windowInput(p, p.windows[0]!);
          });
          const span = loaded.settings.spanMode === 'span' ? loaded.settings.maxWidth : undefined;
          const feeds = encodeBatch(inputs, prompt.ids, loaded.runner.special, span);
          const where = `${g.id} batch ${batches}`;
          expect(rows(feeds.inputIds, feeds.seqLen), where).toEqual(b.feeds.input_ids);
          expect(rows(feeds.attentionMask, feeds.seqLen), where).toEqual(b.feeds.attention_mask);
          expect(rows(feeds.wordsMask, feeds.seqLen), where).toEqual(b.feeds.words_mask);
          expect(rows(feeds.textLengths, 1), where).toEqual(b.feeds.text_lengths);
          if (b.span_idx_sha256 !== null) {
            expect(sha256(new Uint8Array(feeds.spanIdx!.buffer)), where).toBe(b.span_idx_sha256);
            expect(sha256(feeds.spanMask!), where).toBe(b.span_mask_sha256);
          }
          if (b.logits_b64 !== null) {
            const { data, dims } = await loaded.runner.session.run(feeds);
            expect([...dims], where).toEqual(b.logits_shape);
            const want = decodeFloat32(b.logits_b64);
            let maxDiff = 0;
            for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i]! - data[i]!));
            expect(maxDiff, where).toBeLessThan(1e-5);
            logitsChecked++;
          }
          batches++;
        }
      }
      expect(batches).toBeGreaterThan(0);
      expect(logitsChecked).toBeGreaterThan(0);
    });

    it('finds exactly the reference entities (offsets in UTF-16, scores within 1e-4)', async () => {
      let compared = 0;
      let entities = 0;
      let windowedInstead = 0;
      for (const g of goldens) {
        // Where the batched reference crashed (token decoder reading padding positions), its
        // one-text-per-batch run is the reference: fp32 results do not depend on batching.
        const reference = g.entities ?? g.fallback?.entities;
        expect(reference, g.id).toBeDefined();
        const c = byId.get(g.id)!;
        const got = await engine.predict(c.texts, {
          labels: c.labels,
          threshold: c.threshold,
          flatNer: c.flat_ner,
          multiLabel: c.multi_label,
          window: REFERENCE_WINDOW,
        });
        c.texts.forEach((text, i) => {
          if (g.word_counts[i]! > g.max_len) {
            // Beyond max_len the reference silently truncates; we cover the whole text with windows.
            expect(got[i]!.windows, `${g.id} text ${i}`).toBeGreaterThan(1);
            windowedInstead++;
            return;
          }
          const want = toUtf16(text, reference![i]!);
          const have = got[i]!.entities;
          const where = `${g.id} text ${i}`;
          expect(have.map((e) => [e.start, e.end, e.label, e.text]), where).toEqual(want.map((e) => [e.start, e.end, e.label, e.text]));
          have.forEach((e, k) => {
            expect(Math.abs(e.score - want[k]!.score), where).toBeLessThanOrEqual(1e-4);
            expect(text.slice(e.start, e.end)).toBe(e.text);
          });
          compared++;
          entities += want.length;
        });
      }
      expect(compared).toBeGreaterThanOrEqual(40);
      expect(entities).toBeGreaterThan(100);
      expect(windowedInstead).toBe(goldens.reduce((a, g) => a + g.word_counts.filter((w) => w > g.max_len).length, 0));
    });
  });
}
