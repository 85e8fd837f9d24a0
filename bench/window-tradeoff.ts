/**
 * The window size / overlap trade-off, measured by hand (issue 12): for each setting, our words/s
 * on real news (`samples/wikinews.jsonl`, interleaved rounds, batch 1, the service's CPU default)
 * and entity F1 at threshold 0.5 on the GUM Wikinews dev and test documents (exact span + label,
 * person/organization/location, as `npm run eval`). One engine, one process.
 *
 *   npx tsx bench/window-tradeoff.ts [--model models/gliner-news-minilm-l6] [--variant int8] [--rounds 5] [--data ../shared/data/ner]
 *
 * Prints a markdown table (BENCHMARKS.md's by-hand block quotes it).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { WindowOptions } from '../src/core/types.js';
import { splitWords } from '../src/gliner/words.js';
import { GlinerEngine } from '../src/inference/engine.js';
import { cpuInfo } from '../src/cpu-info.js';
import { DEV_SET, TEST_SETS, loadSet, type EvalSet } from '../eval/datasets.js';
import { Scorer, scores } from '../eval/metrics.js';
import { fmt, spread } from './stats.js';

const ROOT = new URL('../', import.meta.url).pathname;
const { values: opt } = parseArgs({
  options: {
    model: { type: 'string', default: `${ROOT}models/gliner-news-minilm-l6` },
    variant: { type: 'string', default: 'int8' },
    rounds: { type: 'string', default: '5' },
    data: { type: 'string', default: `${ROOT}../shared/data/ner` },
    threads: { type: 'string', default: '0' },
  },
});

const LABELS = ['person', 'organization', 'location'];
const SETTINGS: Array<Partial<WindowOptions> & { maxWords: number; overlapWords: number }> = [];
for (const maxWords of [128, 192, 256, 384]) for (const overlapWords of [32, 48]) SETTINGS.push({ maxWords, overlapWords });

const news = readFileSync(`${ROOT}samples/wikinews.jsonl`, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => (JSON.parse(l) as { body: string }).body);
const newsWords = news.reduce((n, t) => n + splitWords(t).count, 0);

async function f1(engine: GlinerEngine, set: EvalSet, window: Partial<WindowOptions>): Promise<number> {
  const scorer = new Scorer();
  for (const t of set.texts) {
    const [r] = await engine.predict([t.text], { labels: set.labels, threshold: 0.5, flatNer: true, multiLabel: false, window });
    scorer.addText(t.gold, r!.entities.map(({ start, end, label }) => ({ start, end, label })));
  }
  return scores(scorer.total).f1;
}

async function main(): Promise<void> {
  const engine = await GlinerEngine.load(opt.model!, { executionProvider: 'cpu', variant: opt.variant!, batchMaxItems: 1, ...(Number(opt.threads) > 0 ? { intraOpThreads: Number(opt.threads) } : {}) });
  const dev = loadSet(opt.data!, DEV_SET);
  const test = loadSet(opt.data!, TEST_SETS.find((s) => s.file.startsWith('gum_wikinews'))!);
  const seconds = new Map<string, number[]>();
  const windows = new Map<string, number>();
  const key = (s: (typeof SETTINGS)[number]) => `${s.maxWords}/${s.overlapWords}`;
  await engine.predict(news.slice(0, 2), { labels: LABELS, threshold: 0.5, flatNer: true, multiLabel: false }); // warm-up
  for (let r = 0; r < Number(opt.rounds); r++) {
    for (const s of SETTINGS) {
      const t0 = performance.now();
      let w = 0;
      for (const text of news) {
        const [res] = await engine.predict([text], { labels: LABELS, threshold: 0.5, flatNer: true, multiLabel: false, window: s });
        w += res!.windows;
      }
      seconds.set(key(s), [...(seconds.get(key(s)) ?? []), (performance.now() - t0) / 1000]);
      windows.set(key(s), w);
    }
    process.stderr.write(`[window-tradeoff] round ${r + 1} done\n`);
  }
  const cpu = cpuInfo();
  const lines = [
    `${cpu.model} (${cpu.vendor}, ${cpu.family}), ${opt.model!.replace(ROOT, '')} ${opt.variant}, batch 1; speed on samples/wikinews.jsonl (${news.length} articles, ${fmt(newsWords)} words), ${opt.rounds} interleaved rounds; F1 @0.5 on GUM Wikinews dev / test (${dev.texts.length} / ${test.texts.length} documents).`,
    '',
    '| window words | overlap | windows (8 articles) | words/s | vs 384/32 | F1 dev | F1 test |',
    '|---|---|---|---|---|---|---|',
  ];
  const base = spread(seconds.get('384/32')!).median;
  for (const s of SETTINGS) {
    const sec = spread(seconds.get(key(s))!);
    const [fd, ft] = [await f1(engine, dev, s), await f1(engine, test, s)];
    lines.push(`| ${s.maxWords} | ${s.overlapWords} | ${windows.get(key(s))} | ${fmt(newsWords / sec.median)} (${fmt(newsWords / sec.max)}–${fmt(newsWords / sec.min)}) | ${fmt(base / sec.median, 2)}× | ${fmt(fd * 100, 1)} | ${fmt(ft * 100, 1)} |`);
  }
  await engine.close();
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
