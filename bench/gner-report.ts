/**
 * The "GNER backend" section of BENCHMARKS.md (one per CPU kind): bench/gner-bench.ts's seconds
 * turned into time per sentence and per 1,000-word article, GNER against GLiNER on the same texts.
 */
import { cpuInfo } from '../src/cpu-info.js';
import { section, writeSection } from './report-file.js';
import { fmt, fmtSpread, spread } from './stats.js';

interface GnerRaw {
  raw: Record<string, number[]>;
  batchSize: number;
  threads: number;
  sentences: number;
  sentenceWords: number;
  sentenceAnswerTokens: number;
  sentencePromptTokens: number;
  articles: number;
  articleWords: number;
  articlePrompts: number;
  articleAnswerTokens: number;
  gnerParameters: number;
}

export function gnerSection(r: Record<string, unknown>, gnerModel: string, glinerModel: string): string {
  const g = r as unknown as GnerRaw;
  const cpu = cpuInfo();
  const root = new URL('../', import.meta.url).pathname;
  const per = (name: string, n: number, scale = 1) => spread((g.raw[name] ?? []).map((s) => (s / n) * scale));
  const sentence = { gner1: per('gner-sentence-b1', g.sentences), gnerB: per(`gner-sentence-b${g.batchSize}`, g.sentences), gliner: per('gliner-sentence', g.sentences) };
  const perKWords = 1000 / g.articleWords;
  const article = { gner: per('gner-article', g.articles), gliner: per('gliner-article', g.articles) };
  const thousand = { gner: per('gner-article', 1, perKWords), gliner: per('gliner-article', 1, perKWords) };
  const tokPerS = spread((g.raw['gner-sentence-b1'] ?? []).map((s) => g.sentenceAnswerTokens / s));
  const L = [
    `## GNER backend against GLiNER on ${cpu.model} (${cpu.vendor}, ${cpu.kind})`,
    '',
    `\`${gnerModel.replace(root, '')}\`: a GNER-T5 of flan-t5-base sizes (${fmt(g.gnerParameters)} parameters, random weights, a 32k English vocabulary; \`models/build_gner_model.py --preset base-gner\`), fp32, ` +
      `through transformers.js as \`MODEL_BACKEND=gner\` runs it, one sentence per prompt; each prompt generates exactly as many tokens as a well-formed answer for its sentence ` +
      `(every word followed by \`(O)\`; a real answer with B-/I- tags is slightly longer). GLiNER: \`${glinerModel.replace(root, '')}\` (DeBERTa-v3-base GLiNER, random weights), fp32, batch 1, ` +
      `windows + merge. Same texts, ${g.threads} threads, interleaved rounds, on ${new Date().toISOString().slice(0, 10)}; median (min–max) over ${sentence.gner1.n} rounds.`,
    '',
    `| texts | GNER | GLiNER | GNER ÷ GLiNER |`,
    '|---|---|---|---|',
    `| ${g.sentences} sentences (${fmt(g.sentenceWords / g.sentences, 1)} words, ${fmt(g.sentenceAnswerTokens / g.sentences, 0)} answer tokens each), batch 1: s per sentence | ${fmtSpread(sentence.gner1, 2)} | ${fmtSpread(sentence.gliner, 3)} | ${fmt(sentence.gner1.median / sentence.gliner.median, 0)}× |`,
    `| the same sentences, GNER batch ${g.batchSize} (\`GNER_BATCH_SIZE\`): s per sentence | ${fmtSpread(sentence.gnerB, 2)} | ${fmtSpread(sentence.gliner, 3)} | ${fmt(sentence.gnerB.median / sentence.gliner.median, 0)}× |`,
    `| ${g.articles === 1 ? 'an article' : `${g.articles} articles`} of ${fmt(g.articleWords / g.articles)} words (${fmt(g.articlePrompts / g.articles)} sentence prompts, ${fmt(g.articleAnswerTokens / g.articles)} answer tokens${g.articles === 1 ? '' : ' each'}), GNER batch ${g.batchSize}: s per article | ${fmtSpread(article.gner, 1)} | ${fmtSpread(article.gliner, 2)} | ${fmt(article.gner.median / article.gliner.median, 0)}× |`,
    `| per 1,000 words of those articles: s | ${fmtSpread(thousand.gner, 1)} | ${fmtSpread(thousand.gliner, 2)} | |`,
    '',
    `GNER generates ${fmtSpread(tokPerS, 0)} tokens/s at batch 1 here; its cost is the length of its answer (about ${fmt(g.sentenceAnswerTokens / g.sentenceWords, 1)} tokens per input word), ` +
      'so it grows with the text and cannot be windowed away; GLiNER reads a 384-word window in one encoder pass.',
  ];
  return section(`gner:${cpu.kind}`, L);
}

export function writeGnerSection(r: Record<string, unknown>, gnerModel: string, glinerModel: string, path: string): void {
  writeSection(path, `gner:${cpuInfo().kind}`, gnerSection(r, gnerModel, glinerModel));
}
