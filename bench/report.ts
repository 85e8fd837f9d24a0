import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { cpuInfo, KERNEL_FLAGS } from '../src/cpu-info.js';
import { agreement, precisionRecall, referenceToUtf16, type AnyEntity } from './compare.js';
import type { E2eResult } from './e2e.js';
import { section, writeSection } from './report-file.js';
import { fmt, fmtSpread, rates, spread, type Spread } from './stats.js';

export interface Measurement {
  name: string;
  words: number;
  texts: number;
  raw: Record<string, unknown>;
}

export interface BenchResults {
  quick: boolean;
  threads: number;
  labels: string[];
  threshold: number;
  model: string;
  measurements: Measurement[];
  matmulPeak: Record<string, unknown>;
  e2e: E2eResult | { error: string };
  /** The GNER stage's raw output (bench/gner-bench.ts), when it ran. */
  gner?: Record<string, unknown>;
  totalSeconds: number;
}

interface Derived {
  m: Measurement;
  wps: Spread;
  aps: Spread;
  outsideOrt?: number;
  gflops?: number;
}

/**
 * Analytic FLOPs of the medium architecture (DeBERTa-v3-base encoder, GLiNER head of
 * width 512, markerV0 spans of 12 widths), per window: an estimate, stated as such.
 */
function windowFlops(tokens: number, words: number): number {
  const d = 768;
  const layers = 12;
  const linear = 24 * d * d; // Q, K, V, O and the 4x FFN, per token and layer (multiply-adds × 2)
  const attention = 4 * tokens * d + 4 * 512 * d; // content and disentangled position attention
  // The relative-position key/query projections depend on weights only: ORT folds them at load.
  const encoder = layers * tokens * (linear + attention);
  const head = words * (2 * 768 * 512 + 2 * 4 * (512 + 256) * 256 * 2 + 2 * 2 * 512 * 2048 * 2 + 12 * (2 * 1024 * 2048 + 2 * 2048 * 512));
  return encoder + head;
}

function derive(m: Measurement): Derived {
  const seconds = m.raw.seconds as number[];
  const d: Derived = { m, wps: rates(m.words, seconds), aps: rates(m.texts, seconds) };
  const ort = m.raw.ortSeconds as number[] | undefined;
  if (ort && ort.length === seconds.length) d.outsideOrt = spread(seconds.map((s, i) => 1 - ort[i]! / s)).median;
  const tokens = m.raw.tokens as number | undefined;
  const windows = m.raw.windows as number | undefined;
  if (tokens && windows) d.gflops = (windowFlops(tokens / windows, m.words / windows) * windows) / 1e9 / spread(seconds).median;
  return d;
}

function texts(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

function machine(): string {
  const cpu = cpuInfo();
  const kernel = execSync('uname -sr', { encoding: 'utf8' }).trim();
  return `${cpu.model} (int8 kernel family ${cpu.family}; flags ${cpu.flags.join(' ') || 'none of ' + KERNEL_FLAGS.join(' ')}), ${execSync('nproc', { encoding: 'utf8' }).trim()} cores, ${fmt(totalmem() / 2 ** 30)} GiB RAM, ${kernel}, Node.js ${process.version}`;
}

export function writeReport(r: BenchResults, path: string): void {
  const byName = new Map(r.measurements.map((m) => [m.name, derive(m)]));
  const get = (n: string) => byName.get(n);
  const base = get('ref-onnx-fp32-b1');
  const ratio = (x?: Derived, y?: Derived) => (x && y ? `${fmt(x.wps.median / y.wps.median, 2)}×` : 'n/a');
  const refVersions = (base?.m.raw.versions ?? {}) as Record<string, string>;
  const h2hTexts = texts(new URL('out/h2h.jsonl', import.meta.url).pathname);
  const ents = (n: string): AnyEntity[][] => {
    const raw = get(n)?.m.raw.entities as AnyEntity[][] | undefined;
    if (!raw) return [];
    return n.startsWith('ref-') ? raw.map((e, i) => referenceToUtf16(h2hTexts[i]!, e)) : raw;
  };
  const agreeFp32 = agreement(ents('ours-fp32-b8'), ents('ref-onnx-fp32-b1'));
  const agreeFp32b1 = agreement(ents('ours-fp32-b1'), ents('ref-onnx-fp32-b1'));
  const agreeInt8 = agreement(ents('ours-int8-b1'), ents('ref-onnx-int8-b1'));
  const int8VsFp32 = precisionRecall(ents('ours-fp32-b8'), ents('ours-int8-b8'));
  const agreeFactored = agreement(ents('ours-factored-b1'), ents('ref-onnx-fp32-b1'));
  const factoredInt8VsFp32 = precisionRecall(ents('ours-fp32-b8'), ents('ours-factored_int8-b8'));
  const peakShapes = (r.matmulPeak.shapes as Array<{ shape: number[]; gflops: number }>) ?? [];
  const peakBest = Math.max(...peakShapes.map((p) => p.gflops));
  const peakModel = spread(peakShapes.filter((p) => p.shape[0] === 384).map((p) => p.gflops));
  const scale = [1, 4, 16].map((k) => get(`ours-fp32-scale-${k}x`));
  const usPerWord = (d?: Derived) => (d ? 1e6 / d.wps.median : NaN);
  const e2e = 'error' in r.e2e ? undefined : r.e2e;
  const pool = get('ours-pool-w1-e2e-corpus');
  // Throughput overhead against pure inference measured right before and after (drift-bracketed),
  // and the loss of model busy time (immune to drift: what the pipeline's scheduling costs).
  const overhead = e2e && pool ? 1 - e2e.articlesPerSecond / pool.aps.median : NaN;
  const busyLoss = e2e && pool?.outsideOrt !== undefined ? 1 - e2e.onnxBusy / (1 - pool.outsideOrt) : NaN;
  const overheadText = Number.isFinite(overhead)
    ? `${fmt(overhead * 100, 1)}% of throughput; ${fmt(busyLoss * 100, 1)}% of ONNX Runtime busy time`
    : 'n/a';
  const bestRefOnnx = [get('ref-onnx-fp32-b1'), get('ref-onnx-fp32-b8')].filter(Boolean).sort((a, b) => b!.wps.median - a!.wps.median)[0];
  const fastest = (...names: string[]) => names.map(get).filter(Boolean).sort((a, b) => b!.wps.median - a!.wps.median)[0];
  const oursFp32 = fastest('ours-fp32-b1', 'ours-fp32-b8');
  const oursInt8 = fastest('ours-int8-b1', 'ours-int8-b8');
  // fp32 arithmetic on either graph (the reference's, or the same weights with the span head factored).
  const factored = get('ours-factored-b1');
  const oursFp32Any = fastest('ours-fp32-b1', 'ours-fp32-b8', 'ours-factored-b1');
  const oursFp32AnyAgree = oursFp32Any === factored ? agreeFactored : oursFp32Any === get('ours-fp32-b1') ? agreeFp32b1 : agreeFp32;
  const oursInt8Any = fastest('ours-int8-b1', 'ours-int8-b8', 'ours-factored_int8-b1', 'ours-factored_int8-b8');

  const row = (label: string, d?: Derived) =>
    d
      ? `| ${label} | ${d.m.raw.batch_size ?? ''} | ${fmtSpread(d.wps)} | ${fmtSpread(d.aps, 2)} | ${ratio(d, base)} | ${d.outsideOrt !== undefined ? `${fmt(d.outsideOrt * 100, 1)}%` : '–'} |`
      : `| ${label} | | not run | | | |`;

  const cpu = cpuInfo();
  const lines: string[] = [];
  lines.push(`## ${cpu.model} (${cpu.vendor}, int8 kernel family ${cpu.family})`, '');
  lines.push(`Generated by \`npm run bench\`${r.quick ? ' **in quick mode (BENCH_QUICK=1): small samples, figures indicative only**' : ''} on ${new Date().toISOString().slice(0, 10)}; the whole run took ${fmt(r.totalSeconds / 60, 1)} minutes. Every figure is the median of repeated runs after a warm-up, with (min–max); this machine is shared and noisy, so compare ratios taken in the same run, not absolute numbers across runs.`, '');
  lines.push('### Setup', '');
  lines.push(`- Machine: ${machine()}.`);
  lines.push(`- Model: the \`gliner_medium_news-v2.1\` architecture (DeBERTa-v3-base, GLiNER hidden 512, 195M parameters) with random weights calibrated to produce entities, built offline by \`models/build_random_model.py --preset medium\`; the same \`onnx/model.onnx\` (fp32, 782 MB) and \`onnx/model_int8.onnx\` (dynamic int8, 255 MB) files for both engines; the torch path loads the same weights.`);
  lines.push(`- Work: ${r.labels.length} labels (${r.labels.join(', ')}), threshold ${r.threshold}, flat NER, ${r.threads} threads for every engine (ONNX Runtime intra-op threads; torch.set_num_threads).`);
  lines.push(`- Versions: ours: onnxruntime-node 1.30.0; reference: gliner ${refVersions.gliner ?? '?'}, onnxruntime ${refVersions.onnxruntime ?? '?'}, torch ${refVersions.torch ?? '?'}.`);
  lines.push(`- Words are GLiNER words (the reference's splitter: punctuation counts), the same count for both engines.`, '');

  lines.push('### Head to head (texts within the reference\'s max_len)', '');
  lines.push(`${base?.m.texts ?? '?'} news-like articles of about ${fmt((base?.m.words ?? 0) / (base?.m.texts ?? 1))} GLiNER words each (${fmt(base?.m.words ?? 0)} words per run; each fits one 512-token window, so both engines see identical inputs). Ratio = words/s over the reference ONNX fp32 at batch size 1. The configurations run in interleaved rounds (each one in turn, a fresh process per round, warmed up on a few texts), so this host's drift over minutes affects the reference and ours alike; each row merges the timed passes of all rounds (${(base?.m.raw['seconds'] as number[] | undefined)?.length ?? '?'} for the reference at batch 1).`, '');
  lines.push('| engine | batch | words/s | articles/s | ratio | outside ORT |', '|---|---|---|---|---|---|');
  lines.push(row('reference, ONNX fp32', get('ref-onnx-fp32-b1')), row('reference, ONNX fp32', get('ref-onnx-fp32-b8')), row('reference, ONNX int8', get('ref-onnx-int8-b1')), row('reference, torch fp32', get('ref-torch-fp32-b1')));
  lines.push(row('ours, fp32', get('ours-fp32-b1')), row('ours, fp32 (length-sorted)', get('ours-fp32-b8')), row('ours, int8', get('ours-int8-b1')), row('ours, int8 (length-sorted)', get('ours-int8-b8')));
  if (factored) {
    if (get('ref-onnx-factored-b1')) lines.push(row('reference, ONNX fp32 on `model_factored.onnx`', get('ref-onnx-factored-b1')));
    lines.push(row('ours, factored span head, fp32 (`model_factored.onnx`)', factored), row('ours, factored span head, int8', get('ours-factored_int8-b1')), row('ours, factored span head, int8 (length-sorted)', get('ours-factored_int8-b8')));
  }
  lines.push('');
  lines.push('Same entities:', '');
  lines.push(`- ours fp32 batch 8 vs reference ONNX fp32: ${agreeFp32.identicalTexts}/${agreeFp32.texts} texts identical (${fmt(agreeFp32.entitiesA)} vs ${fmt(agreeFp32.entitiesB)} entities, largest score difference ${agreeFp32.maxScoreDiff.toExponential(1)}); ours batch 1: ${agreeFp32b1.identicalTexts}/${agreeFp32b1.texts}.`);
  lines.push(`- ours int8 batch 1 vs reference ONNX int8 batch 1 (dynamic quantization depends on batch composition, so only equal batching compares): ${agreeInt8.identicalTexts}/${agreeInt8.texts} texts identical.`);
  lines.push(`- int8 vs fp32 (ours, batch 8): precision ${fmt(int8VsFp32.precision * 100, 1)}%, recall ${fmt(int8VsFp32.recall * 100, 1)}% on exact (span, label) matches.`);
  if (factored) {
    lines.push(`- ours on the factored span head (\`model_factored.onnx\`: the same weights, the markerV0 head's first layer once per word and its second folded into the labels; models/gliner_tools/factored_head.py) vs reference ONNX fp32 on \`model.onnx\`, batch 1: ${agreeFactored.identicalTexts}/${agreeFactored.texts} texts identical (${fmt(agreeFactored.entitiesA)} vs ${fmt(agreeFactored.entitiesB)} entities, largest score difference ${agreeFactored.maxScoreDiff.toExponential(1)}); its int8 vs fp32 (batch 8): precision ${fmt(factoredInt8VsFp32.precision * 100, 1)}%, recall ${fmt(factoredInt8VsFp32.recall * 100, 1)}%.`);
  }
  lines.push('');
  const fp32Best = get('ours-fp32-b1');
  lines.push(`Compute: ours fp32 batch 1 runs about ${fp32Best?.gflops !== undefined ? fmt(fp32Best.gflops) : 'n/a'} GFLOP/s (an analytic count of the architecture's multiply-adds: encoder projections, FFN and disentangled attention, bi-LSTM, span head over all W×12 spans). ONNX Runtime's own fp32 MatMul on ${r.threads} threads reaches ${fmt(peakModel.median)} GFLOP/s on the model's matrix shapes (384×768×3072, 384×3072×768, 384×768×768) and ${fmt(peakBest)} at best on square shapes (${peakShapes.map((p) => `${p.shape.join('×')}: ${fmt(p.gflops)}`).join(', ')}): the model runs at ${fp32Best?.gflops !== undefined ? `${fmt((fp32Best.gflops / peakModel.median) * 100)}%` : 'n/a'} of what the same library reaches on its shapes, so on CPU the remaining cost is in the graph itself (MatMul ≈ 62% of ORT time; the relative-position GatherElements/Expand/Where ≈ 16% in an ORT profile).`, '');

  lines.push('### Batching and workers (ours, fp32)', '');
  // Batch 1 measured just before and just after this stage (merged); batch 8 comes from the head to head.
  const sweepBase = get('ours-fp32-b1-sweep') ?? get('ours-fp32-b1');
  lines.push('The head-to-head texts; ratios are to in-process batch 1 run just before and just after the other rows of this table (batch 8: from the head to head).', '');
  lines.push('| configuration | words/s | ratio to batch 1 |', '|---|---|---|');
  for (const b of [1, 2, 4, 8, 16]) {
    const d = b === 1 ? sweepBase : get(`ours-fp32-b${b}`);
    lines.push(`| in-process engine, batch ${b} | ${d ? fmtSpread(d.wps) : 'not run'} | ${ratio(d, sweepBase)} |`);
  }
  const w1 = get('ours-pool-w1-b1');
  const w2 = get('ours-pool-w2-b1');
  lines.push(`| worker pool, 1 worker × ${r.threads} threads, batch 1 | ${w1 ? fmtSpread(w1.wps) : 'not run'} | ${ratio(w1, sweepBase)} |`);
  lines.push(`| worker pool, 2 workers × ${Math.floor(r.threads / 2)} thread(s), batch 1 | ${w2 ? fmtSpread(w2.wps) : 'not run'} | ${ratio(w2, sweepBase)} |`, '');

  lines.push('### Long articles (ours, fp32, batch 1)', '');
  lines.push('The same number of words at each length; windows of 384 words overlapping by 32, cut at sentence ends. The three lengths run in interleaved rounds.', '');
  lines.push('| article length | articles × windows | words/s | µs per word | vs 1× |', '|---|---|---|---|---|');
  [1, 4, 16].forEach((k, i) => {
    const d = scale[i];
    lines.push(`| ${k}× max_len (~${fmt((d?.m.words ?? 0) / (d?.m.texts ?? 1))} words) | ${d?.m.texts ?? '?'} × ${fmt(((d?.m.raw.windows as number) ?? 0) / (d?.m.texts ?? 1), 1)} | ${d ? fmtSpread(d.wps) : 'not run'} | ${fmt(usPerWord(d), 0)} | ${fmt(usPerWord(d) / usPerWord(scale[0]), 2)}× |`);
  });
  lines.push('');

  lines.push('### End to end (real Kafka and Elasticsearch, the service as a child process)', '');
  if (e2e) {
    lines.push(`${e2e.articles} articles with the wire-feed length mix (${fmt(e2e.words)} words), produced at once to a 2-partition topic; one service process, 1 worker × ${r.threads} threads, batch 1 (the CPU default). Kafka and Elasticsearch run on the same 2 cores, so their CPU use counts as overhead here.`, '');
    lines.push('| figure | value |', '|---|---|');
    lines.push(`| articles/s (first produce → last output record) | ${fmt(e2e.articlesPerSecond, 2)} |`);
    lines.push(`| words/s | ${fmt(e2e.words / e2e.seconds)} |`);
    lines.push(`| latency p50 / p99 (input → output record) | ${fmt(e2e.latencyP50Ms / 1000, 1)} s / ${fmt(e2e.latencyP99Ms / 1000, 1)} s (backlog of the whole burst included) |`);
    lines.push(`| documents in Elasticsearch | ${e2e.indexed} of ${e2e.articles} |`);
    lines.push(`| pure inference on the same articles (worker pool, just before and just after) | ${pool ? fmtSpread(pool.aps, 3) : 'n/a'} articles/s |`);
    lines.push(`| throughput end to end ÷ pure inference (their mean) | ${pool ? `${fmt(e2e.articlesPerSecond / pool.aps.median, 3)}` : 'n/a'} |`);
    lines.push(`| ONNX Runtime busy: end to end / pure inference | ${fmt(e2e.onnxBusy * 100, 1)}% / ${pool?.outsideOrt !== undefined ? fmt((1 - pool.outsideOrt) * 100, 1) : 'n/a'}% of wall time |`);
    lines.push(`| Kafka + Elasticsearch overhead | ${overheadText} |`);
    lines.push(`| peak RSS of the service process | ${fmt(e2e.peakRssMb)} MB |`);
    if (e2e.cpuSeconds) {
      const c = e2e.cpuSeconds;
      lines.push(`| CPU seconds during the run: service / Kafka + Elasticsearch / available | ${fmt(c.service)} / ${fmt(c.kafkaAndEs)} / ${fmt(c.available)} (Kafka and Elasticsearch took ${fmt((c.kafkaAndEs / c.available) * 100, 1)}% of the machine) |`);
    }
    lines.push('');
  } else {
    lines.push(`Not measured: ${'error' in r.e2e ? r.e2e.error : ''}`, '');
  }

  lines.push('### Against the targets', '');
  lines.push('| target | measured | met |', '|---|---|---|');
  const t = (name: string, value: string, ok: boolean | undefined) => lines.push(`| ${name} | ${value} | ${ok === undefined ? 'n/a' : ok ? 'yes' : 'no'} |`);
  const fp32Ratio = oursFp32 && base ? oursFp32.wps.median / base.wps.median : NaN;
  t('CPU fp32 ≥ 1.3× reference words/s (same model, threads), identical entities: the reference\'s graph', `${fmt(fp32Ratio, 2)}× of ref b1${bestRefOnnx && oursFp32 ? `, ${fmt(oursFp32.wps.median / bestRefOnnx.wps.median, 2)}× of ref's best batch` : ''}; ${agreeFp32.identicalTexts}/${agreeFp32.texts} identical`, Number.isFinite(fp32Ratio) ? fp32Ratio >= 1.3 && agreeFp32.identicalTexts === agreeFp32.texts : undefined);
  if (factored) {
    const anyRatio = oursFp32Any && base ? oursFp32Any.wps.median / base.wps.median : NaN;
    const refFactored = get('ref-onnx-factored-b1');
    const sameFile = refFactored ? `; vs the reference on the same factored file ${ratio(factored, refFactored)}` : '';
    t('… ours on the best fp32 file of the project\'s export (the factored span head where faster) vs the reference on model.onnx, as its users run it', `${fmt(anyRatio, 2)}× of ref b1 (${oursFp32Any === factored ? 'factored head, batch 1' : 'the reference\'s graph'}); ${oursFp32AnyAgree.identicalTexts}/${oursFp32AnyAgree.texts} identical${sameFile}`, Number.isFinite(anyRatio) ? anyRatio >= 1.3 && oursFp32AnyAgree.identicalTexts === oursFp32AnyAgree.texts : undefined);
  }
  t('time outside ONNX Runtime ≤ 2% of wall', oursFp32?.outsideOrt !== undefined ? `${fmt(oursFp32.outsideOrt * 100, 1)}%` : 'n/a', oursFp32?.outsideOrt !== undefined ? oursFp32.outsideOrt <= 0.02 : undefined);
  const int8Ratio = oursInt8Any && base ? oursInt8Any.wps.median / base.wps.median : NaN;
  t('CPU int8 (best batch and file) ≥ 2× reference fp32 words/s', `${fmt(int8Ratio, 2)}× (${oursInt8Any === oursInt8 ? 'model_int8.onnx' : 'model_factored_int8.onnx'}, batch ${oursInt8Any?.m.raw.batch_size ?? '?'}; ${oursInt8Any === oursInt8 ? 'F1 cost of int8 on the shipped model: EVALUATION.md' : 'its F1 cost on a trained model is measured by npm run eval on a folder that has the file'})`, Number.isFinite(int8Ratio) ? int8Ratio >= 2 : undefined);
  const sc = usPerWord(scale[2]) / usPerWord(scale[0]);
  t('cost per word at 16× max_len ≤ 1.15× that at 1×', `${fmt(sc, 2)}×`, Number.isFinite(sc) ? sc <= 1.15 : undefined);
  t('Kafka + Elasticsearch overhead ≤ 10% of pure inference', overheadText, Number.isFinite(overhead) ? overhead <= 0.1 : undefined);
  t('GPU (H100): ≥ 3× reference torch fp16 throughput, ≥ 1,000 articles/s of 400 words', 'not run: no GPU machine is lent to this task (device tool: can_start_another false)', undefined);
  writeSection(path, `cpu:${cpu.kind}`, section(`cpu:${cpu.kind}`, lines));
}
