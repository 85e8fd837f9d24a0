/**
 * `npm run bench`: measures our engine against the reference `gliner` package on the
 * same model file, texts, labels, threshold and thread count, in one run, and writes
 * BENCHMARKS.md. Builds (or reuses) the benchmark model and the Python reference
 * environment. BENCH_QUICK=1 shrinks every stage (a smoke run of the harness); BENCH_REPORT_ONLY=1
 * re-renders this CPU kind's sections from the last run's bench/out/results.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { makeCorpus, makeFixedCorpus, type Article } from './corpus.js';
import { runE2e, type E2eResult } from './e2e.js';
import { writeReport, type BenchResults, type Measurement } from './report.js';
import { writeGnerSection } from './gner-report.js';
import { writeShippedSection } from './shipped-report.js';
import { splitWords } from '../src/gliner/words.js';
import { ONNX_VARIANTS, PROJECT_VARIANTS, type ProjectVariant } from '../src/gliner/model-dir.js';
import { isServiceRunning, startService, stopService, type ServiceName } from '../test/helpers/services.js';

const ROOT = new URL('../', import.meta.url).pathname;
const OUT = `${ROOT}bench/out/`;
const QUICK = process.env.BENCH_QUICK === '1';
const MODEL = process.env.BENCH_MODEL ?? `${ROOT}models/build/gliner_medium_news-v2.1-random`;
const TORCH_MODEL = `${MODEL}-torch`;
const PY = `${ROOT}models/.venv/bin/python`;
const THREADS = Number(process.env.BENCH_THREADS ?? availableParallelism());
const LABELS = ['person', 'organization', 'location', 'date', 'event', 'product', 'money', 'country'];
const THRESHOLD = 0.5;
const SWEEP_RUNS = QUICK ? 1 : 3;
/**
 * Head to head and length scaling run in interleaved rounds: each configuration in turn, one
 * child process per configuration and round, so the host's drift over minutes (10-30% here) hits
 * every configuration alike. Each child warms up on a few texts only, then times whole passes.
 */
const ROUNDS = QUICK ? 1 : 3;
const RUNS_PER_ROUND = 2;
const SCALE_RUNS_PER_ROUND = 1;
/**
 * The trained model shipped in the repository (the demo's default), measured in its own stage:
 * BENCH_STAGES=shipped rewrites only that section of BENCHMARKS.md.
 */
const SHIPPED = process.env.BENCH_SHIPPED_MODEL ?? `${ROOT}models/gliner-news-minilm-l6`;
/** BENCH_STAGES=h2h,sweep,scale,e2e,shipped runs a subset (raw results only, BENCHMARKS.md untouched, except the shipped section). */
const ALL_STAGES = ['h2h', 'sweep', 'scale', 'e2e', 'shipped', 'gner'];
/** The GNER stage's model (bench/gner-bench.ts): flan-t5-base sizes, random weights, built on first use. */
const GNER_MODEL = process.env.BENCH_GNER_MODEL ?? `${ROOT}models/build/gner-t5-base-random`;
const STAGES = new Set((process.env.BENCH_STAGES ?? ALL_STAGES.join(',')).split(','));
const PARTIAL = ALL_STAGES.some((s) => !STAGES.has(s));

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function ensureEnvironment(): void {
  if (!existsSync(PY)) {
    log('setting up the reference Python environment (models/setup.sh)');
    execFileSync('bash', [`${ROOT}models/setup.sh`], { stdio: 'inherit' });
  }
  const need = MEDIUM_VARIANTS.some((v) => !existsSync(`${MODEL}/onnx/${ONNX_VARIANTS[v]}`)) || !existsSync(TORCH_MODEL);
  if (need && process.env.BENCH_MODEL === undefined) {
    log('building the benchmark model: gliner_medium_news-v2.1 architecture, random weights (~2 min)');
    execFileSync(PY, [`${ROOT}models/build_random_model.py`, '--preset', 'medium', '--out', MODEL, '--variants', MEDIUM_VARIANTS.join(','), '--save-checkpoint', TORCH_MODEL], {
      stdio: 'inherit',
    });
  }
}

/**
 * The files the head-to-head times on the benchmark model: the reference's own graph (fp32, int8)
 * and the same weights with the span head factored. Only these are built.
 */
const MEDIUM_VARIANTS = ['fp32', 'int8', 'factored', 'factored_int8'] as const satisfies readonly ProjectVariant[];

function writeCorpus(name: string, articles: readonly Article[]): { path: string; words: number; texts: number } {
  const path = `${OUT}${name}.jsonl`;
  writeFileSync(path, articles.map((a) => JSON.stringify({ text: a.body })).join('\n') + '\n');
  return { path, words: articles.reduce((s, a) => s + splitWords(a.body).count, 0), texts: articles.length };
}

function child(cmd: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, OMP_NUM_THREADS: String(THREADS) } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Texts a child warms up on before timing: one full batch, at least 4 texts. */
const warmupTexts = (batch: number) => String(Math.max(4, batch));

function reference(corpus: { path: string }, engine: 'onnx' | 'torch', file: string, batch: number, runs: number, onnxModel = MODEL): Record<string, unknown> {
  log(`reference ${engine} ${file} batch ${batch}${onnxModel === MODEL ? '' : ` (${onnxModel.replace(ROOT, '')})`}`);
  const model = engine === 'torch' ? TORCH_MODEL : onnxModel;
  return child(PY, [`${ROOT}bench/reference.py`, '--model', model, '--corpus', corpus.path, '--labels', LABELS.join(','), '--threshold', String(THRESHOLD),
    '--engine', engine, '--onnx-file', file, '--batch-size', String(batch), '--threads', String(THREADS), '--warmup', '1',
    '--warmup-texts', warmupTexts(batch), '--runs', String(runs)]);
}

function ours(corpus: { path: string }, variant: string, batch: number, extra: string[], runs: number, warmup = 1, threads = THREADS, model = MODEL): Record<string, unknown> {
  log(`ours ${variant} batch ${batch} ${extra.join(' ')}${model === MODEL ? '' : ` (${model.replace(ROOT, '')})`}`);
  return child(process.execPath, ['--import', 'tsx', `${ROOT}bench/engine-bench.ts`, '--model', model, '--corpus', corpus.path, '--labels', LABELS.join(','),
    '--threshold', String(THRESHOLD), '--variant', variant, '--batch-size', String(batch), '--threads', String(threads), '--warmup', String(warmup), '--runs', String(runs), ...extra]);
}

function measurement(name: string, raw: Record<string, unknown>, corpus: { words: number; texts: number }): Measurement {
  return { name, words: corpus.words, texts: corpus.texts, raw };
}

/**
 * Runs every configuration once per round, `rounds` times, and merges each one's runs: the
 * interleaving spreads the host's drift over all of them instead of the one that ran last.
 */
function interleaved(rounds: number, configs: ReadonlyArray<readonly [string, () => Record<string, unknown>]>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) log(`round ${round} of ${rounds}`);
    for (const [name, run] of configs) {
      const raw = run();
      const prev = out.get(name);
      out.set(name, prev ? mergeRuns(prev, raw) : raw);
    }
  }
  return out;
}

/** One measurement from the runs of two (the same configuration before and after a stage). */
function mergeRuns(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const cat = (key: string) => [...((a[key] as number[] | undefined) ?? []), ...((b[key] as number[] | undefined) ?? [])];
  return { ...a, seconds: cat('seconds'), ortSeconds: cat('ortSeconds') };
}

async function e2e(articles: Article[], words: number): Promise<E2eResult> {
  const started: ServiceName[] = [];
  let brokers = process.env.KAFKA_BROKERS;
  let esUrl = process.env.ELASTICSEARCH_URL;
  for (const [name, set] of [['kafka', brokers], ['es', esUrl]] as const) {
    if (set === undefined && !(await isServiceRunning(name))) {
      log(`starting local ${name} (scripts/services.sh)`);
      await startService(name);
      started.push(name);
    }
  }
  brokers ??= '127.0.0.1:9092';
  esUrl ??= 'http://127.0.0.1:9200';
  try {
    log(`end to end: ${articles.length} articles through Kafka → service → Elasticsearch + Kafka`);
    return await runE2e({ brokers, esUrl, modelDir: MODEL, variant: 'fp32', articles, words, labels: LABELS, threads: THREADS, batchSize: 1, httpPort: 18089 });
  } finally {
    for (const name of started.reverse()) await stopService(name);
  }
}

async function main(): Promise<void> {
  if (process.env.BENCH_REPORT_ONLY === '1') {
    // Re-renders this CPU kind's sections from the last full run's raw results (report wording).
    const results = JSON.parse(readFileSync(`${OUT}results.json`, 'utf8')) as BenchResults;
    writeReport(results, `${ROOT}BENCHMARKS.md`);
    writeShippedSection(results, SHIPPED, `${ROOT}BENCHMARKS.md`);
    if (results.gner) writeGnerSection(results.gner, GNER_MODEL, MODEL, `${ROOT}BENCHMARKS.md`);
    return log('BENCHMARKS.md re-rendered from bench/out/results.json');
  }
  const t0 = Date.now();
  mkdirSync(OUT, { recursive: true });
  ensureEnvironment();
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });

  // Head-to-head texts fit the reference's max_len (384 words) and one 512-token window.
  const h2h = writeCorpus('h2h', makeFixedCorpus(QUICK ? 6 : 24, 250));
  const m: Measurement[] = [];
  const h = (name: string, raw: Record<string, unknown>) => m.push(measurement(name, raw, h2h));

  if (STAGES.has('h2h')) {
    const n = RUNS_PER_ROUND;
    // A BENCH_MODEL folder without the factored files (another export) is timed on the rest.
    const hasFactored = (['factored', 'factored_int8'] as const).every((v) => existsSync(`${MODEL}/onnx/${ONNX_VARIANTS[v]}`));
    const runs = interleaved(ROUNDS, [
      ['ref-onnx-fp32-b1', () => reference(h2h, 'onnx', 'onnx/model.onnx', 1, n)],
      ['ours-fp32-b1', () => ours(h2h, 'fp32', 1, ['--warmup-texts', warmupTexts(1)], n)],
      ['ref-onnx-int8-b1', () => reference(h2h, 'onnx', 'onnx/model_int8.onnx', 1, n)],
      ['ours-int8-b1', () => ours(h2h, 'int8', 1, ['--warmup-texts', warmupTexts(1)], n)],
      ['ref-onnx-fp32-b8', () => reference(h2h, 'onnx', 'onnx/model.onnx', 8, n)],
      ['ours-fp32-b8', () => ours(h2h, 'fp32', 8, ['--warmup-texts', warmupTexts(8)], n)],
      ['ours-int8-b8', () => ours(h2h, 'int8', 8, ['--warmup-texts', warmupTexts(8)], n)],
      ...(hasFactored ? [
        // The reference on the same factored file: what the graph gains either engine.
        ['ref-onnx-factored-b1', () => reference(h2h, 'onnx', `onnx/${ONNX_VARIANTS.factored}`, 1, n)],
        ['ours-factored-b1', () => ours(h2h, 'factored', 1, ['--warmup-texts', warmupTexts(1)], n)],
        ['ours-factored_int8-b1', () => ours(h2h, 'factored_int8', 1, ['--warmup-texts', warmupTexts(1)], n)],
        ['ours-factored_int8-b8', () => ours(h2h, 'factored_int8', 8, ['--warmup-texts', warmupTexts(8)], n)],
      ] as const : []),
      ['ref-torch-fp32-b1', () => reference(h2h, 'torch', '', 1, QUICK ? 1 : n)],
    ]);
    for (const [name, raw] of runs) h(name, raw);
  }
  if (STAGES.has('sweep')) {
    // This host's speed drifts by 10-30% over minutes: the sweep brackets itself with batch-1 runs
    // and the report compares every configuration with those, not with the head-to-head's.
    const baseline = () => ours(h2h, 'fp32', 1, [], SWEEP_RUNS);
    const before = baseline();
    for (const b of [2, 4, 16]) h(`ours-fp32-b${b}`, ours(h2h, 'fp32', b, [], SWEEP_RUNS));
    h('ours-pool-w1-b1', ours(h2h, 'fp32', 1, ['--mode', 'pool', '--workers', '1'], SWEEP_RUNS));
    if (THREADS >= 2) h('ours-pool-w2-b1', ours(h2h, 'fp32', 1, ['--mode', 'pool', '--workers', '2'], SWEEP_RUNS, 1, Math.floor(THREADS / 2)));
    h('ours-fp32-b1-sweep', mergeRuns(before, baseline()));
  }

  if (STAGES.has('shipped')) {
    // Only the variants present: the repository ships one; models/train.sh writes them all.
    const n = RUNS_PER_ROUND;
    const configs: Array<readonly [string, () => Record<string, unknown>]> = [];
    for (const variant of PROJECT_VARIANTS) {
      const file = `onnx/${ONNX_VARIANTS[variant]}`;
      if (!existsSync(`${SHIPPED}/${file}`)) continue;
      configs.push([`shipped-ref-${variant}-b1`, () => reference(h2h, 'onnx', file, 1, n, SHIPPED)]);
      configs.push([`shipped-ours-${variant}-b1`, () => ours(h2h, variant, 1, ['--warmup-texts', warmupTexts(1)], n, 1, THREADS, SHIPPED)]);
      configs.push([`shipped-ours-${variant}-b8`, () => ours(h2h, variant, 8, ['--warmup-texts', warmupTexts(8)], n, 1, THREADS, SHIPPED)]);
    }
    if (configs.length === 0) log(`shipped stage skipped: ${SHIPPED} has no onnx/ files`);
    for (const [name, raw] of interleaved(ROUNDS, configs)) h(name, raw);
  }

  // Cost per word at 1×, 4× and 16× max_len words: the same number of words each time.
  const perScale = QUICK ? 384 * 4 : 384 * 16;
  if (STAGES.has('scale')) {
    const corpora = [1, 4, 16].map((k) => {
      const docs = Math.max(1, Math.round(perScale / (384 * k)));
      return [k, writeCorpus(`scale-${k}`, makeFixedCorpus(docs, Math.round(384 * k * 0.87), 100 + k))] as const;
    });
    const runs = interleaved(ROUNDS, corpora.map(([k, corpus]) => [`ours-fp32-scale-${k}x`, () => ours(corpus, 'fp32', 1, ['--warmup-texts', '1'], SCALE_RUNS_PER_ROUND)] as const));
    for (const [k, corpus] of corpora) m.push(measurement(`ours-fp32-scale-${k}x`, runs.get(`ours-fp32-scale-${k}x`)!, corpus));
  }

  log('matrix-multiply peak through ONNX Runtime');
  const peak = STAGES.has('h2h') ? child(PY, [`${ROOT}bench/matmul_peak.py`, '--threads', String(THREADS)]) : {};

  // End to end, and pure inference on the same articles for the overhead ratio.
  const mix = makeCorpus(QUICK ? 12 : 40, 11);
  const mixCorpus = writeCorpus('e2e-mix', mix);
  let e2eResult: E2eResult | { error: string } = { error: 'stage not run' };
  if (STAGES.has('e2e')) {
    // Pure inference on the same articles right before and right after the end-to-end run:
    // this host's speed drifts by 10-30% over minutes, so the service is compared with both.
    const poolRun = () => ours(mixCorpus, 'fp32', 1, ['--mode', 'pool', '--workers', '1'], 1, 0);
    const before = poolRun();
    try {
      e2eResult = await e2e(mix, mixCorpus.words);
    } catch (err) {
      log(`end-to-end stage failed: ${(err as Error).message}`);
      e2eResult = { error: (err as Error).message };
    }
    const after = poolRun();
    m.push(measurement('ours-pool-w1-e2e-corpus', mergeRuns(before, after), mixCorpus));
  }

  let gner: Record<string, unknown> | undefined;
  if (STAGES.has('gner')) {
    if (!existsSync(`${GNER_MODEL}/onnx/decoder_model_merged.onnx`) && process.env.BENCH_GNER_MODEL === undefined) {
      log('building the GNER benchmark model: flan-t5-base sizes, random weights (~1.5 min)');
      execFileSync(PY, [`${ROOT}models/build_gner_model.py`, '--preset', 'base-gner', '--out', GNER_MODEL], { stdio: 'inherit' });
    }
    log('GNER backend vs GLiNER on the same sentences and articles');
    gner = child(process.execPath, ['--import', 'tsx', `${ROOT}bench/gner-bench.ts`, '--gner', GNER_MODEL, '--gliner', MODEL, '--labels', LABELS.join(','), '--threads', String(THREADS),
      ...(QUICK ? ['--sentences', '3', '--articles', '1', '--article-words', '300', '--rounds', '1'] : [])]);
  }

  const results: BenchResults = {
    quick: QUICK,
    threads: THREADS,
    labels: LABELS,
    threshold: THRESHOLD,
    model: MODEL,
    measurements: m,
    matmulPeak: peak,
    e2e: e2eResult,
    ...(gner ? { gner } : {}),
    totalSeconds: (Date.now() - t0) / 1000,
  };
  if (PARTIAL) {
    // A quick run's figures are indicative only: they never replace a measured section.
    if (STAGES.has('shipped') && !QUICK) writeShippedSection(results, SHIPPED, `${ROOT}BENCHMARKS.md`);
    if (gner && !QUICK) writeGnerSection(gner, GNER_MODEL, MODEL, `${ROOT}BENCHMARKS.md`);
    writeFileSync(`${OUT}results-partial.json`, JSON.stringify(results, null, 1));
    const sections = [STAGES.has('shipped') && !QUICK ? 'shipped-model' : '', gner && !QUICK ? 'gner' : ''].filter((x) => x !== '');
    log(`done in ${Math.round(results.totalSeconds)} s: bench/out/results-partial.json (partial run; BENCHMARKS.md ${sections.length > 0 ? `${sections.join(' and ')} section only` : 'untouched'})`);
    return;
  }
  writeFileSync(`${OUT}results.json`, JSON.stringify(results));
  writeReport(results, `${ROOT}BENCHMARKS.md`);
  writeShippedSection(results, SHIPPED, `${ROOT}BENCHMARKS.md`);
  if (gner) writeGnerSection(gner, GNER_MODEL, MODEL, `${ROOT}BENCHMARKS.md`);
  log(`done in ${Math.round(results.totalSeconds)} s: BENCHMARKS.md`);
}

await main();
