/**
 * The GNER backend against the references (models/golden_gner.py):
 * - generation: the prompt GNER's dataset code builds, its input ids, and greedy generation on the
 *   tiny-gner fixture (a random-weight flan-t5 layout exported by optimum) equal to PyTorch's
 *   `generate()` token for token, one prompt at a time and all prompts in one padded batch. The
 *   golden records the smallest gap between the chosen and the runner-up logit on the path
 *   (≥ 0.015 here); fp32 kernels of other CPUs differ by ~1e-5, so exact ids hold on any x86-64.
 * - parsing: outputs taken through the reference evaluator's own `extract_predictions` and
 *   `parser` (yyDing1/GNER `src/gner_evaluator.py`), with and without back-tokenization.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GnerModel } from '../../src/gner/model.js';
import { bioSpans, extractTagged, parseGnerOutput } from '../../src/gner/parse.js';
import { gnerPrompt } from '../../src/gner/prompt.js';
import { FIXTURES, readJsonl } from '../helpers/golden.js';

interface GenerateGolden {
  kind: 'generate';
  words: string[];
  labels: string[];
  prompt: string;
  input_ids: number[];
  max_new_tokens: number;
  generated_ids: number[];
  generated_text: string;
  min_logit_margin: number;
}
interface ParseGolden {
  kind: 'parse';
  words: string[];
  labels: string[];
  output: string;
  extracted: [string[], string[]];
  back_tokenized_words: string[];
  predictions: string[];
  predictions_back_tokenized: string[];
  entities: Array<[string, string]>;
  entities_back_tokenized: Array<[string, string]>;
}
type Golden = GenerateGolden | ParseGolden;

const golden = readJsonl<Golden>(`${FIXTURES}/parity/golden-gner-tiny.jsonl`);
const generation = golden.filter((g): g is GenerateGolden => g.kind === 'generate');
const parsing = golden.filter((g): g is ParseGolden => g.kind === 'parse');

/** The reference evaluator's `normalize_answer` (lower, no punctuation, no articles, single spaces), to compare entity tuples. */
function normalize(s: string): string {
  const noPunct = [...s.toLowerCase()].filter((c) => !'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.includes(c)).join('');
  return noPunct.replace(/\b(a|an|the)\b/g, ' ').split(/\s+/).filter((w) => w !== '').join(' ');
}

function entityTuples(words: string[], tags: string[]): Array<[string, string]> {
  const seen: Array<[string, string]> = [];
  for (const s of bioSpans(tags)) {
    const t: [string, string] = [normalize(words.slice(s.start, s.end + 1).join(' ')), normalize(s.label)];
    if (!seen.some(([a, b]) => a === t[0] && b === t[1])) seen.push(t);
  }
  return seen;
}

let model: GnerModel;
beforeAll(async () => {
  model = await GnerModel.load(`${FIXTURES}/models/tiny-gner`, { intraOpThreads: 1 });
});
afterAll(async () => {
  await model?.release();
});

describe('GNER generation equals PyTorch generate() (tiny-gner)', () => {
  it('has cases with a clear logit margin', () => {
    expect(generation.length).toBeGreaterThanOrEqual(5);
    for (const g of generation) expect(g.min_logit_margin).toBeGreaterThan(1e-3);
  });

  it.each(generation.map((g) => [g.words.join(' '), g] as const))('prompt and input ids: %s', (_, g) => {
    expect(gnerPrompt(g.words, g.labels)).toBe(g.prompt);
    expect(model.inputIds(g.prompt)).toEqual(g.input_ids);
  });

  it.each(generation.map((g) => [g.words.join(' '), g] as const))('greedy ids, one prompt: %s', async (_, g) => {
    const [out] = await model.generate([g.prompt], g.max_new_tokens);
    expect(out!.ids).toEqual(g.generated_ids);
    // Python's T5 decode keeps the first word's `▁` as a leading space, transformers.js drops it;
    // the parser strips the output first (`extractTagged`), so only the rest must be equal.
    expect(out!.text).toBe(g.generated_text.replace(/^ /, ''));
  });

  it('greedy ids, all prompts in one padded batch', async () => {
    const outs = await model.generate(
      generation.map((g) => g.prompt),
      generation[0]!.max_new_tokens,
    );
    expect(outs.map((o) => o.ids)).toEqual(generation.map((g) => g.generated_ids));
  });
});

describe('GNER parsing equals the reference evaluator', () => {
  it.each(parsing.map((p) => [p.output, p] as const))('%s', (_, p) => {
    const { words, tags } = extractTagged(p.output);
    expect([words, tags]).toEqual(p.extracted);
    expect(p.words.map((w) => model.backTokenize(w.toLowerCase()))).toEqual(p.back_tokenized_words);

    const plain = parseGnerOutput(p.output, p.words, p.labels);
    expect(plain.tags).toEqual(p.predictions);
    expect(entityTuples(p.words, plain.tags)).toEqual(p.entities);

    const back = parseGnerOutput(p.output, p.words, p.labels, (w) => model.backTokenize(w));
    expect(back.tags).toEqual(p.predictions_back_tokenized);
    expect(entityTuples(p.words, back.tags)).toEqual(p.entities_back_tokenized);
  });

  it('covers every matching rule: exact, in-order subsequence, longest common subsequence, back-tokenization', () => {
    const changed = parsing.filter((p) => p.predictions.join() !== p.predictions_back_tokenized.join());
    expect(changed.length).toBeGreaterThan(0);
    expect(parsing.some((p) => p.extracted[0].length > p.words.length)).toBe(true); // added words: LCS
    expect(parsing.some((p) => p.extracted[0].length < p.words.length && p.extracted[0].length > 0)).toBe(true);
  });
});
