import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlinerEngine } from '../../src/inference/engine.js';
import { loadModel, type LoadedModel } from '../../src/gliner/model.js';
import type { WindowOptions } from '../../src/core/types.js';
import { FIXTURES } from '../helpers/golden.js';

/**
 * P1–P5 of DESIGN.md §4 on the span fixture (random weights, calibrated so every
 * paragraph has entities), with small windows so generated documents cross many cuts.
 */

const MODEL = `${FIXTURES}models/tiny-span`;
const LABELS = ['person', 'organization', 'location', 'date'];
const SMALL = { maxWords: 60, overlapWords: 22 };

const SENTENCES = [
  'Angela Merkel met Emmanuel Macron in Paris on Tuesday.',
  'Shares of Deutsche Bank AG fell 3% in Frankfurt after the report.',
  'The United Nations Security Council will vote on the resolution next week.',
  'Lionel Messi scored twice as Inter Miami beat Orlando City 3-1.',
  'Officials in São Paulo said the flooding displaced 4,000 residents.',
  'Microsoft was founded by Bill Gates and Paul Allen on April 4, 1975.',
  'The European Central Bank kept interest rates unchanged in October.',
  'Rescue teams from the Red Cross arrived in the port city of Beira.',
  'Prime Minister Narendra Modi visited Tokyo to meet Fumio Kishida',
  'NASA said the Artemis II crew would fly around the Moon in 2026.',
];

const document = fc
  .array(fc.record({ s: fc.integer({ min: 0, max: SENTENCES.length - 1 }), nl: fc.boolean() }), { minLength: 5, maxLength: 70 })
  .map((parts) => parts.map(({ s, nl }) => SENTENCES[s]! + (nl ? '\n' : ' ')).join(''));

let engine: GlinerEngine;
let model: LoadedModel;
beforeAll(async () => {
  engine = await GlinerEngine.load(MODEL, { executionProvider: 'cpu', batchMaxItems: 16, batchMaxTokens: 1 << 16 });
  model = await loadModel(MODEL, { executionProvider: 'cpu' });
});
afterAll(async () => {
  await engine?.close();
  await model?.release();
});

function plan(text: string, window: Partial<WindowOptions> = SMALL) {
  const pre = model.preprocessor;
  return pre.prepareText(text, pre.limits(pre.prompt(LABELS), window));
}

describe('long text on the span fixture', () => {
  it('P1: a text that fits one window gives exactly the single-pass result', async () => {
    const text = SENTENCES.slice(0, 4).join(' ');
    const [windowed] = await engine.predict([text], { labels: LABELS, threshold: 0.5, flatNer: true, multiLabel: false, window: SMALL });
    const [single] = await engine.predict([text], { labels: LABELS, threshold: 0.5, flatNer: true, multiLabel: false });
    expect(windowed!.windows).toBe(1);
    expect(windowed!.entities).toEqual(single!.entities);
    expect(single!.entities.length).toBeGreaterThan(0);
  });

  it('P2–P4: entities are unique, whole, taken from a window that contains them, sorted and flat', async () => {
    await fc.assert(
      fc.asyncProperty(document, fc.boolean(), async (text, flatNer) => {
        const opts = { labels: LABELS, threshold: 0.4, flatNer, multiLabel: false, window: SMALL };
        const [res] = await engine.predict([text], opts);
        const p = plan(text);
        expect(res!.windows).toBe(p.windows.length);
        const wordOf = new Map<number, number>();
        p.starts.forEach((s, i) => wordOf.set(s, i));
        const ents = res!.entities;
        const seen = new Set<string>();
        for (let k = 0; k < ents.length; k++) {
          const e = ents[k]!;
          expect(text.slice(e.start, e.end)).toBe(e.text);
          const key = `${e.start}:${e.end}:${e.label}`;
          expect(seen.has(key)).toBe(false); // P2
          seen.add(key);
          if (k > 0) expect(e.start).toBeGreaterThanOrEqual(ents[k - 1]!.start); // P4 sorted
          if (flatNer && k > 0) expect(e.start).toBeGreaterThanOrEqual(ents[k - 1]!.end); // P4 flat
          // P3: the window owning the entity's first word contains it whole, and that
          // window run on its own reports the same entity with the same score.
          const w0 = wordOf.get(e.start)!;
          const win = p.windows.find((w) => w.ownStart <= w0 && w0 < w.ownEnd)!;
          expect(e.end).toBeLessThanOrEqual(p.ends[win.end - 1]!);
          const offset = p.starts[win.start]!;
          const winText = text.slice(offset, p.ends[win.end - 1]);
          const [alone] = await engine.predict([winText], { ...opts, window: undefined });
          const match = alone!.entities.find((a) => a.start + offset === e.start && a.end + offset === e.end && a.label === e.label);
          expect(match, `${e.text} (${e.label}) from window ${win.start}..${win.end}`).toBeDefined();
          expect(match!.score).toBe(e.score);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a task prompt goes before every window: each entity is what its window, run alone with the prompt, reports', async () => {
    const taskPrompt = 'Extract relationships between entities from the text: ';
    const text = Array.from({ length: 3 }, () => SENTENCES.join(' ')).join('\n');
    const pre = model.preprocessor;
    const prefix = pre.taskPrefix(taskPrompt);
    const p = pre.prepareText(text, pre.limits(pre.prompt(LABELS), SMALL, prefix));
    expect(p.windows.length).toBeGreaterThan(3);
    // The window budget is the text's: SMALL's 60 words each, the prompt's 8 on top.
    expect(Math.max(...p.windows.map((w) => w.end - w.start))).toBeLessThanOrEqual(SMALL.maxWords);
    const ask = (t: string, window?: Partial<WindowOptions>) =>
      engine.extract({ fields: [{ field: 'b', text: t }], labels: LABELS, decode: { threshold: 0.4, flatNer: true, multiLabel: false }, taskPrompt, ...(window ? { window } : {}) });
    const [res] = await ask(text, SMALL);
    expect(res!.windows).toBe(p.windows.length);
    expect(res!.entities.length).toBeGreaterThan(5);
    const wordOf = new Map<number, number>();
    p.starts.forEach((s, i) => wordOf.set(s, i));
    for (const e of res!.entities) {
      expect(text.slice(e.start, e.end)).toBe(e.text);
      const w0 = wordOf.get(e.start)!;
      const win = p.windows.find((w) => w.ownStart <= w0 && w0 < w.ownEnd)!;
      const offset = p.starts[win.start]!;
      const [alone] = await ask(text.slice(offset, p.ends[win.end - 1]));
      const match = alone!.entities.find((a) => a.start + offset === e.start && a.end + offset === e.end && a.label === e.label);
      expect(match, `${e.text} (${e.label}) from window ${win.start}..${win.end}`).toBeDefined();
      expect(match!.score).toBe(e.score);
    }
    // The prompt changes what the model reads: the same text without it scores differently.
    const [plain] = await engine.predict([text], { labels: LABELS, threshold: 0.4, flatNer: true, multiLabel: false, window: SMALL });
    expect(plain!.entities.map((e) => e.score)).not.toEqual(res!.entities.map((e) => e.score));
  });

  it('P5: windows grow linearly with length', () => {
    const base = SENTENCES.join(' ');
    const counts = [1, 4, 16].map((m) => {
      const p = plan(Array.from({ length: m * 6 }, () => base).join(' '), { maxWords: 384, overlapWords: 32 });
      return { words: p.counts.length, windows: p.windows.length, processed: p.windows.reduce((a, w) => a + w.end - w.start, 0) };
    });
    for (const c of counts) expect(c.processed / c.words).toBeLessThan(1.2);
    expect(counts[2]!.windows / counts[1]!.windows).toBeGreaterThan(3.5);
    expect(counts[2]!.windows / counts[1]!.windows).toBeLessThan(4.5);
  });

  it('finds entities in the last window of a 5,000-word document with correct offsets', async () => {
    const parts: string[] = [];
    let words = 0;
    for (let i = 0; words < 5000; i++) {
      const s = SENTENCES[(i * 7) % SENTENCES.length]!;
      parts.push(s);
      words += s.split(/\s+/).length;
    }
    const text = parts.map((s, i) => (i % 5 === 4 ? `${s}\n` : `${s} `)).join('');
    const [res] = await engine.predict([text], { labels: LABELS, threshold: 0.5, flatNer: true, multiLabel: false });
    const p = plan(text, {});
    expect(p.counts.length).toBeGreaterThan(5000);
    expect(res!.windows).toBe(p.windows.length);
    expect(res!.windows).toBeGreaterThan(12);
    const last = p.windows[p.windows.length - 1]!;
    const inLast = res!.entities.filter((e) => e.start >= p.starts[last.ownStart]!);
    expect(inLast.length).toBeGreaterThan(0);
    for (const e of res!.entities) expect(text.slice(e.start, e.end)).toBe(e.text);
  });
});
