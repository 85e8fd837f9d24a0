/**
 * `npm run eval`: entity quality of a model folder on held-out data, ours against the
 * reference `gliner` on the same model in the same run, written to EVALUATION.md.
 *
 *   npm run eval -- [--data ../shared/data/ner] [--model models/gliner-news-minilm-l6] [--quick] [--only gum,uner] [--batch 1]
 *
 * Every system is run once at the lowest threshold (0.3); the scores at 0.5 and 0.7 keep
 * the entities above them. That is exact for flat greedy decoding: a span is kept iff no
 * higher-scoring kept span overlaps it, so raising the threshold only removes spans below
 * it (the run checks this on the first document set by decoding at 0.5 directly).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { GlinerEngine } from '../src/inference/engine.js';
import type { WindowOptions } from '../src/core/types.js';
import { DEFAULT_BATCH_MAX_ITEMS } from '../src/core/defaults.js';
import { splitWords } from '../src/gliner/words.js';
import { mostExactVariant, ONNX_VARIANTS, PROJECT_VARIANTS, type ProjectVariant } from '../src/gliner/model-dir.js';
import { DEV_SET, TEST_SETS, loadSet, type EvalSet } from './datasets.js';
import { Scorer, scores, wordIndexAt, type Counts, type Span } from './metrics.js';
import { writeEvaluation, type SystemResult, type EvalResults, type TuningRow } from './report.js';

const ROOT = new URL('../', import.meta.url).pathname;
const OUT = `${ROOT}eval/out/`;
const PY = `${ROOT}models/.venv/bin/python`;
export const THRESHOLDS = [0.3, 0.5, 0.7] as const;
/** Documents are scored separately for entities starting before and after this word (the model's max_len). */
const BOUNDARY_WORDS = 384;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const QUICK = process.argv.includes('--quick');
/**
 * Windows per inference batch for ours: the service's CPU default unless --batch says otherwise.
 * fp32 results do not depend on it; dynamic int8 quantises each batch's activations together,
 * so its rows are what the service gives only at the service's batch size.
 */
const BATCH = Number(arg('batch', String(DEFAULT_BATCH_MAX_ITEMS.cpu)));
if (!Number.isInteger(BATCH) || BATCH < 1) throw new Error(`--batch must be a positive integer, not ${arg('batch', '')}`);
const DATA = arg('data', `${ROOT}../shared/data/ner`);
const MODEL = arg('model', `${ROOT}models/gliner-news-minilm-l6`);
/** --only gum,wnut: just the sets whose file name contains one of these (EVALUATION.md untouched). */
const ONLY = process.argv.includes('--only') ? arg('only', '').split(',').filter((x) => x !== '') : undefined;

function log(msg: string): void {
  process.stderr.write(`[eval ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

type Scored = Span & { score: number };

type Variant = ProjectVariant;
const hasVariant = (v: Variant): boolean => existsSync(`${MODEL}/onnx/${ONNX_VARIANTS[v]}`);
/**
 * The variant every system runs on: fp32 when the folder has it (a training output), else the
 * most exact file it has (the shipped folder carries one quantised file). Every other variant
 * present gets its own "ours" row, so int8 and the factored head are scored against fp32.
 */
function primaryVariant(): Variant {
  const found = mostExactVariant(MODEL);
  if (found === undefined) throw new Error(`${MODEL} has none of ${PROJECT_VARIANTS.map((v) => `onnx/${ONNX_VARIANTS[v]}`).join(', ')}`);
  return found;
}

/** Ours, in-process, one predict call per group of texts. */
async function runOurs(engine: GlinerEngine, set: EvalSet, threshold: number, window: Partial<WindowOptions>): Promise<Scored[][]> {
  const out: Scored[][] = [];
  const group = set.documents ? 4 : 32;
  for (let i = 0; i < set.texts.length; i += group) {
    const texts = set.texts.slice(i, i + group).map((t) => t.text);
    const results = await engine.predict(texts, { labels: set.labels, threshold, flatNer: true, multiLabel: false, window });
    for (const r of results) out.push(r.entities.map(({ start, end, label, score }) => ({ start, end, label, score })));
  }
  return out;
}

/** Ablation: fixed consecutive chunks of `words` words, no overlap, no sentence cuts, each run on its own. */
async function runChunked(engine: GlinerEngine, set: EvalSet, threshold: number, words: number): Promise<Scored[][]> {
  const out: Scored[][] = [];
  for (const t of set.texts) {
    const w = splitWords(t.text);
    const found: Scored[] = [];
    for (let s = 0; s < w.count; s += words) {
      const e = Math.min(w.count, s + words);
      const from = w.starts[s]!;
      const [r] = await engine.predict([t.text.slice(from, w.ends[e - 1]!)], { labels: set.labels, threshold, flatNer: true, multiLabel: false });
      for (const x of r!.entities) found.push({ start: x.start + from, end: x.end + from, label: x.label, score: x.score });
    }
    out.push(found);
  }
  return out;
}

/** The reference on every text of every set in one Python process (its start-up costs ~20 s). */
function runReference(sets: readonly EvalSet[], threshold: number): Map<string, Scored[][]> {
  mkdirSync(OUT, { recursive: true });
  const inPath = `${OUT}reference.in.jsonl`;
  const outPath = `${OUT}reference.out.jsonl`;
  const items = sets.flatMap((set) => set.texts.map((t) => JSON.stringify({ id: `${set.file}#${t.id}`, text: t.text, labels: set.labels })));
  writeFileSync(inPath, items.join('\n') + '\n');
  const file = ONNX_VARIANTS[primaryVariant()];
  execFileSync(PY, [`${ROOT}models/eval_reference.py`, '--model', MODEL, '--variant', file, '--threshold', String(threshold), '--in', inPath, '--out', outPath], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const rows = readFileSync(outPath, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { id: string; entities: Scored[] });
  const byId = new Map(rows.map((r) => [r.id, r.entities]));
  return new Map(sets.map((set) => [set.file, set.texts.map((t) => byId.get(`${set.file}#${t.id}`)!)]));
}

function score(set: EvalSet, predictions: Scored[][], threshold: number): SystemResult['byThreshold'][number] {
  const scorer = new Scorer();
  const before = new Scorer();
  const after = new Scorer();
  set.texts.forEach((t, i) => {
    const pred: Span[] = predictions[i]!.filter((p) => p.score > threshold).map(({ start, end, label }) => ({ start, end, label }));
    scorer.addText(t.gold, pred);
    if (set.documents) {
      const starts = splitWords(t.text).starts;
      const early = (s: Span) => wordIndexAt(starts, s.start) < BOUNDARY_WORDS;
      before.addText(t.gold.filter(early), pred.filter(early));
      after.addText(t.gold.filter((s) => !early(s)), pred.filter((s) => !early(s)));
    }
  });
  return {
    threshold,
    total: scorer.total,
    byLabel: Object.fromEntries(scorer.byLabel),
    ...(set.documents ? { before: before.total, after: after.total } : {}),
  };
}

function sameEntities(a: Scored[][], b: Scored[][]): boolean {
  const k = (xs: Scored[]) => xs.map((x) => `${x.start}:${x.end}:${x.label}`).sort().join('|');
  return a.length === b.length && a.every((x, i) => k(x) === k(b[i]!));
}

async function tune(engine: GlinerEngine): Promise<TuningRow[]> {
  const dev = loadSet(DATA, DEV_SET);
  const rows: TuningRow[] = [];
  const grid: Array<Partial<WindowOptions> & { maxWords: number }> = [];
  for (const maxWords of QUICK ? [384] : [128, 256, 384]) {
    for (const overlapWords of QUICK ? [32] : [32, 48]) {
      for (const cutAtSentences of [true, false]) grid.push({ maxWords, overlapWords, cutAtSentences });
    }
  }
  for (const window of grid) {
    const pred = await runOurs(engine, dev, 0.5, window);
    const s = score(dev, pred, 0.5);
    rows.push({ window: { maxWords: window.maxWords, overlapWords: window.overlapWords!, cutAtSentences: window.cutAtSentences! }, total: s.total, after: s.after! });
    log(`tuning ${JSON.stringify(window)}: F1 ${(100 * f1(s.total)).toFixed(1)}`);
  }
  return rows;
}

const describeWindow = (w: TuningRow['window']): string =>
  `${w.maxWords} words, overlap ${w.overlapWords}${w.cutAtSentences ? ', cut at sentence ends' : ', fixed cuts'}`;

const f1 = (c: Counts): number => scores(c).f1;

async function evaluate(): Promise<void> {
  const variant = primaryVariant();
  if (!existsSync(PY)) {
    log('setting up the reference Python environment (models/setup.sh)');
    execFileSync('bash', [`${ROOT}models/setup.sh`], { stdio: 'inherit' });
  }
  const started = Date.now();
  const extras = PROJECT_VARIANTS.filter((v) => v !== variant && hasVariant(v));
  log(`model ${MODEL}: every system runs the ${variant} variant${variant !== 'fp32' ? ' (no fp32 file here: no row against fp32)' : ''}; ` +
    `also scored: ${extras.length > 0 ? extras.join(', ') : 'no other variant'}`);
  // `main` is the primary variant; each extra variant present gets one "ours" row beside it.
  const main = await GlinerEngine.load(MODEL, { executionProvider: 'cpu', variant, batchMaxItems: BATCH });
  const others: Array<[Variant, GlinerEngine]> = [];
  for (const v of extras) others.push([v, await GlinerEngine.load(MODEL, { executionProvider: 'cpu', variant: v, batchMaxItems: BATCH })]);
  const tuning = await tune(main);
  // The dev set's best window setting (highest F1; ties: the earlier, larger-overlap-last grid order).
  const best = tuning.reduce((x, y) => (f1(y.total) > f1(x.total) ? y : x)).window;
  log(`best window setting on dev: ${describeWindow(best)}`);
  const sets: EvalResults['sets'] = [];
  let thresholdCheck: boolean | undefined;
  const low = THRESHOLDS[0];
  const specs = ONLY === undefined ? TEST_SETS : TEST_SETS.filter((s) => ONLY.some((o) => s.file.includes(o)));
  const testSets = specs.map((spec) => loadSet(DATA, spec, QUICK ? (spec.documents ? 2 : 40) : Infinity));
  const results: EvalResults = {
    model: MODEL.replace(ROOT, ''),
    variant,
    extraVariants: extras,
    batch: BATCH,
    data: DATA,
    quick: QUICK,
    boundaryWords: BOUNDARY_WORDS,
    thresholds: [...THRESHOLDS],
    thresholdFilterExact: null,
    tuning,
    sets,
    setsPlanned: testSets.map((s) => s.name),
    minutes: 0,
    date: new Date().toISOString().slice(0, 10),
  };
  for (const set of testSets) {
    const words = set.texts.reduce((a, t) => a + splitWords(t.text).count, 0);
    log(`${set.name}: ${set.texts.length} texts, ${words} words, labels ${set.labels.join(', ')}`);
    const systems: SystemResult[] = [];
    const run = async (name: string, f: () => Promise<Scored[][]> | Scored[][]) => {
      const t0 = Date.now();
      const pred = await f();
      const seconds = (Date.now() - t0) / 1000;
      systems.push({ name, seconds, byThreshold: THRESHOLDS.map((t) => score(set, pred, t)) });
      log(`  ${name}: F1@0.5 ${(100 * f1(systems.at(-1)!.byThreshold[1]!.total)).toFixed(1)} (${seconds.toFixed(0)} s)`);
      return pred;
    };
    await run('reference (predict_entities, whole text)', () => runReference([set], low).get(set.file)!);
    const ours = await run('ours, windows + merge', () => runOurs(main, set, low, {}));
    for (const [v, engine] of others) await run(`ours ${v.replace('_', ' ')}, windows + merge`, () => runOurs(engine, set, low, {}));
    if (set.documents) await run(`ours, tuned windows (${describeWindow(best)}, best on dev)`, () => runOurs(main, set, low, best));
    if (set.documents) {
      await run('ours, windows not cut at sentence ends', () => runOurs(main, set, low, { cutAtSentences: false }));
      await run(`ours, ${BOUNDARY_WORDS}-word chunks without overlap`, () => runChunked(main, set, low, BOUNDARY_WORDS));
      if (thresholdCheck === undefined) thresholdCheck = sameEntities((await runOurs(main, set, 0.5, {})), ours.map((x) => x.filter((e) => e.score > 0.5)));
    }
    sets.push({ name: set.name, file: set.file, texts: set.texts.length, words, labels: set.labels, documents: set.documents, gold: set.texts.reduce((a, t) => a + t.gold.length, 0), systems });
    // Written after every set, so a long run that is stopped still leaves what it measured (marked partial).
    results.thresholdFilterExact = thresholdCheck ?? null;
    results.minutes = (Date.now() - started) / 60000;
    save(results);
  }
  await main.close();
  for (const [, engine] of others) await engine.close();
  log(`done in ${results.minutes.toFixed(1)} min`);
}

function save(results: EvalResults): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}results.json`, JSON.stringify(results, null, 2) + '\n');
  if (QUICK || ONLY !== undefined) log(`${QUICK ? 'quick' : 'partial (--only)'} run: results in ${OUT}results.json, EVALUATION.md untouched`);
  else writeEvaluation(results, `${ROOT}EVALUATION.md`);
}

evaluate().catch((err: unknown) => {
  process.stderr.write(`[eval] ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
