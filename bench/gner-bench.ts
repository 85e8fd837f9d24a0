/**
 * The GNER stage of `npm run bench` (also `BENCH_STAGES=gner npm run bench`): what the generative
 * backend costs against GLiNER on the same texts, in one process, interleaved rounds.
 *
 * - GNER: `models/build/gner-t5-base-random` (flan-t5-base sizes, 248M parameters, random weights,
 *   a 32k English vocabulary: `models/build_gner_model.py --preset base-gner`), fp32, through
 *   transformers.js as the backend runs it, one sentence per prompt (the backend's default).
 *   Random weights do not write a real answer, so every prompt generates exactly as many tokens as
 *   a well-formed answer for its sentence would have (each word followed by `(O)`): the cost of a
 *   real GNER-T5-base answer, slightly under it where words carry B-/I- tags.
 * - GLiNER: the medium-architecture random model (DeBERTa-v3-base GLiNER), fp32, batch 1, as the
 *   service's default runs it, on the same sentences and the same articles (windows + merge).
 *
 * Prints one JSON object (the raw seconds per configuration) for bench/run.ts.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GnerModel } from '../src/gner/model.js';
import { gnerPromptHead } from '../src/gner/prompt.js';
import { fieldUnits, wordTokenCounter } from '../src/gner/extract-fields.js';
import { splitWords } from '../src/gliner/words.js';
import { GlinerEngine } from '../src/inference/engine.js';
import { makeArticle } from './corpus.js';

const { values } = parseArgs({
  options: {
    gner: { type: 'string' },
    gliner: { type: 'string' },
    labels: { type: 'string', default: 'person,organization,location,date' },
    threads: { type: 'string', default: '2' },
    sentences: { type: 'string', default: '12' },
    articles: { type: 'string', default: '1' },
    'article-words': { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
  },
});
const labels = values.labels!.split(',');
const threads = Number(values.threads);
const batchSize = Number(values['batch-size']);

const gner = await GnerModel.load(values.gner!, { intraOpThreads: threads, interOpThreads: 1 });
const gliner = await GlinerEngine.load(values.gliner!, { intraOpThreads: threads, batchMaxItems: 1 });
const head = gnerPromptHead(labels);

/** The prompts of one text as the backend cuts them, each with its well-formed answer's length. */
function prompts(text: string): Array<{ prompt: string; answerTokens: number; words: number }> {
  const textTokens = 640 - gner.tokenCount(head);
  return fieldUnits(splitWords(text), wordTokenCounter(gner), { textTokens, groupWords: 0 }).map((u) => ({
    prompt: head + u.words.join(' '),
    answerTokens: gner.tokenCount(u.words.map((w) => `${w}(O)`).join(' ')),
    words: u.words.length,
  }));
}

async function gnerRun(items: Array<{ prompt: string; answerTokens: number }>, batch: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < items.length; i += batch) {
    const group = items.slice(i, i + batch);
    await gner.generate(group.map((g) => g.prompt), Math.max(...group.map((g) => g.answerTokens)));
  }
  return (performance.now() - t0) / 1000;
}

async function glinerRun(texts: string[]): Promise<number> {
  const t0 = performance.now();
  for (const t of texts) await gliner.predict([t], { labels, threshold: 0.5, flatNer: true, multiLabel: false });
  return (performance.now() - t0) / 1000;
}

// Sentences of news-like articles (the bench corpus), and articles of about 1,000 words.
const sentenceTexts: string[] = [];
for (let seed = 1; sentenceTexts.length < Number(values.sentences); seed++) {
  const body = makeArticle(`s${seed}`, 120, 31 + seed).body;
  for (const p of prompts(body)) if (sentenceTexts.length < Number(values.sentences)) sentenceTexts.push(p.prompt.slice(head.length));
}
const sentenceItems = sentenceTexts.map((t) => prompts(t)[0]!);
const articleTexts = Array.from({ length: Number(values.articles) }, (_, i) => makeArticle(`a${i}`, Number(values['article-words']), 977 + i).body);
const articleItems = articleTexts.map(prompts);

// Warm-up: one of each.
await gnerRun(sentenceItems.slice(0, 1), 1);
await glinerRun(sentenceTexts.slice(0, 1));

const raw: Record<string, number[]> = { 'gner-sentence-b1': [], [`gner-sentence-b${batchSize}`]: [], 'gliner-sentence': [], 'gner-article': [], 'gliner-article': [] };
for (let round = 0; round < Number(values.rounds); round++) {
  raw['gner-sentence-b1']!.push(await gnerRun(sentenceItems, 1));
  raw[`gner-sentence-b${batchSize}`]!.push(await gnerRun(sentenceItems, batchSize));
  raw['gliner-sentence']!.push(await glinerRun(sentenceTexts));
  let g = 0;
  for (const items of articleItems) g += await gnerRun(items, batchSize);
  raw['gner-article']!.push(g);
  raw['gliner-article']!.push(await glinerRun(articleTexts));
}
const sentencePromptTokens = sentenceItems.reduce((a, s) => a + gner.tokenCount(s.prompt), 0);
await gner.release();
await gliner.close();

const count = (texts: string[]) => texts.reduce((a, t) => a + splitWords(t).count, 0);
process.stdout.write(
  JSON.stringify({
    raw,
    batchSize,
    threads,
    sentences: sentenceTexts.length,
    sentenceWords: count(sentenceTexts),
    sentenceAnswerTokens: sentenceItems.reduce((a, s) => a + s.answerTokens, 0),
    sentencePromptTokens,
    articles: articleTexts.length,
    articleWords: count(articleTexts),
    articlePrompts: articleItems.reduce((a, p) => a + p.length, 0),
    articleAnswerTokens: articleItems.flat().reduce((a, s) => a + s.answerTokens, 0),
    gnerParameters: (JSON.parse(readFileSync(`${values.gner!}/BUILD_INFO.json`, 'utf8')) as { parameters: number }).parameters,
  }) + '\n',
);
