/**
 * Times our engine on a JSONL corpus (one `{"text"}` per line), in this process.
 * Prints one JSON object: wall seconds per run, ONNX Runtime seconds per run (to get
 * the share of time spent outside it), model load time, peak RSS, and the entities of
 * the last run. Run by bench/run.ts as a child process, one configuration per process.
 *
 *   tsx bench/engine-bench.ts --model DIR --corpus FILE --labels a,b --threshold 0.5 \
 *     --variant fp32 --batch-size 8 --threads 2 --warmup 1 [--warmup-texts 8] --runs 5 [--mode pool --workers 2]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { GlinerEngine } from '../src/inference/engine.js';
import { sha256File, resolveModelFiles } from '../src/gliner/model-dir.js';
import { loadModelText } from '../src/gliner/model-text.js';
import type { Entity } from '../src/core/types.js';
import { InferencePool, type BatchStats } from '../src/inference/pool.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    corpus: { type: 'string' },
    labels: { type: 'string' },
    threshold: { type: 'string', default: '0.5' },
    variant: { type: 'string', default: 'fp32' },
    'batch-size': { type: 'string', default: '8' },
    'batch-tokens': { type: 'string', default: '65536' },
    threads: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    /** Warm up on the first N texts only (0: all). */
    'warmup-texts': { type: 'string', default: '0' },
    runs: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'engine' },
    workers: { type: 'string', default: '1' },
    'max-tokens': { type: 'string' },
  },
});

const texts = readFileSync(a.corpus!, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => (JSON.parse(l) as { text: string }).text);
const labels = a.labels!.split(',');
const decode = { threshold: Number(a.threshold), flatNer: true, multiLabel: false };
const window = a['max-tokens'] ? { windowMaxTokens: a['max-tokens'] === 'inf' ? Infinity : Number(a['max-tokens']) } : undefined;
const batchSize = Number(a['batch-size']);
const warmupTexts = Number(a['warmup-texts']) > 0 ? texts.slice(0, Number(a['warmup-texts'])) : texts;
const threads = Number(a.threads);

interface Result {
  seconds: number[];
  ortSeconds: number[];
  loadSeconds: number;
  entities: Entity[][];
  words: number;
  windows: number;
  batches: number;
  paddedTokens: number;
  tokens: number;
}

async function runEngine(): Promise<Result> {
  const t0 = performance.now();
  const engine = await GlinerEngine.load(a.model!, {
    executionProvider: 'cpu',
    variant: a.variant!,
    intraOpThreads: threads,
    batchMaxItems: batchSize,
    batchMaxTokens: Number(a['batch-tokens']),
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const opts = { ...decode, labels, ...(window ? { window } : {}) };
  for (let i = 0; i < Number(a.warmup); i++) await engine.predict(warmupTexts, opts);
  const r: Result = { seconds: [], ortSeconds: [], loadSeconds, entities: [], words: 0, windows: 0, batches: 0, paddedTokens: 0, tokens: 0 };
  for (let i = 0; i < Number(a.runs); i++) {
    const before = engine.timing.runMs;
    const t = performance.now();
    const out = await engine.predict(texts, opts);
    r.seconds.push((performance.now() - t) / 1000);
    r.ortSeconds.push((engine.timing.runMs - before) / 1000);
    r.entities = out.map((o) => o.entities);
    r.words = out.reduce((s, o) => s + o.words, 0);
    r.windows = out.reduce((s, o) => s + o.windows, 0);
  }
  // Sequence tokens over all windows ([CLS] + prompt + text + [SEP]), for the FLOP estimate.
  const pre = loadModelText(a.model!, { variant: a.variant! }).preprocessor;
  const prompt = pre.prompt(labels);
  const limits = pre.limits(prompt, window ?? {});
  for (const t of texts) {
    const p = pre.prepareText(t, limits);
    for (const w of p.windows) r.tokens += p.tokenStart[w.end]! - p.tokenStart[w.start]! + prompt.ids.length + 2;
  }
  await engine.close();
  return r;
}

async function runPool(): Promise<Result> {
  const files = resolveModelFiles(a.model!, a.variant!);
  const batches: BatchStats[] = [];
  const t0 = performance.now();
  const pool = await InferencePool.start({
    modelDir: a.model!,
    load: { executionProvider: 'cpu', variant: a.variant!, intraOpThreads: threads, sha256: await sha256File(files.onnx) },
    workers: Number(a.workers),
    batcher: { batchMaxItems: batchSize, batchMaxTokens: Number(a['batch-tokens']), batchMaxWaitMs: 5 },
    logger: pino({ level: 'silent' }),
    onBatch: (s) => batches.push(s),
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const request = (text: string) => ({ fields: [{ field: 'body', text }], labels, decode, ...(window ? { window } : {}) });
  const once = (subset = texts) => Promise.all(subset.map((t) => pool.extract(request(t))));
  for (let i = 0; i < Number(a.warmup); i++) await once(warmupTexts);
  const r: Result = { seconds: [], ortSeconds: [], loadSeconds, entities: [], words: 0, windows: 0, batches: 0, paddedTokens: 0, tokens: 0 };
  for (let i = 0; i < Number(a.runs); i++) {
    batches.length = 0;
    const t = performance.now();
    const out = await once();
    r.seconds.push((performance.now() - t) / 1000);
    // Workers run in parallel: ORT time is per worker, so report the busiest share.
    r.ortSeconds.push(batches.reduce((s, b) => s + b.runMs, 0) / 1000 / Number(a.workers));
    r.entities = out.map((o) => o[0]!.entities);
    r.words = out.reduce((s, o) => s + o[0]!.words, 0);
    r.windows = out.reduce((s, o) => s + o[0]!.windows, 0);
    r.batches = batches.length;
    r.paddedTokens = batches.reduce((s, b) => s + b.paddedTokens, 0);
    r.tokens = batches.reduce((s, b) => s + b.tokens, 0);
  }
  await pool.close();
  return r;
}

const result = a.mode === 'pool' ? await runPool() : await runEngine();
process.stdout.write(
  JSON.stringify({
    engine: `ours-${a.mode}`,
    variant: a.variant,
    batch_size: batchSize,
    threads,
    workers: Number(a.workers),
    ...result,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
