/**
 * The "Shipped model" section of BENCHMARKS.md: ours vs the reference on the trained model in
 * models/ (the demo's default). Written by a full `npm run bench` or by BENCH_STAGES=shipped,
 * which replaces only this CPU kind's section (bench/report-file.ts) and leaves the rest alone.
 */
import { readFileSync } from 'node:fs';
import { cpuInfo } from '../src/cpu-info.js';
import { PROJECT_VARIANTS } from '../src/gliner/model-dir.js';
import { agreement, referenceToUtf16, type AnyEntity } from './compare.js';
import { section, writeSection } from './report-file.js';
import type { BenchResults, Measurement } from './report.js';
import { fmt, fmtSpread, rates } from './stats.js';


function textsOf(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { text: string }).text);
}

export function shippedSection(r: BenchResults, model: string): string {
  const byName = new Map(r.measurements.filter((m) => m.name.startsWith('shipped-')).map((m) => [m.name, m]));
  const wps = (m?: Measurement) => (m ? rates(m.words, m.raw.seconds as number[]) : undefined);
  const h2h = textsOf(new URL('out/h2h.jsonl', import.meta.url).pathname);
  const ents = (m?: Measurement): AnyEntity[][] => {
    const raw = m?.raw.entities as AnyEntity[][] | undefined;
    if (!raw) return [];
    return m!.name.includes('-ref-') ? raw.map((e, i) => referenceToUtf16(h2h[i]!, e)) : raw;
  };
  const cpu = cpuInfo();
  const L: string[] = [`## Shipped model (the demo's default) on ${cpu.model} (${cpu.vendor}, int8 kernel family ${cpu.family})`, ''];
  const any = [...byName.values()][0];
  const folder = model.replace(new URL('../', import.meta.url).pathname, '');
  L.push(
    `\`${folder}\`: the project's trained GLiNER on all-MiniLM-L6-v2 (6 layers, hidden 384, 34M parameters; quality in EVALUATION.md). ` +
      `Same texts as the head to head (${any?.texts ?? '?'} articles, ${fmt(any?.words ?? 0)} words), same labels and threshold, ${r.threads} threads, ` +
      `interleaved rounds, on ${new Date().toISOString().slice(0, 10)}. Only the variants present in the folder are measured (the repository ships one); ` +
      'the reference runs each on the same file (its ONNX path takes any file with the GLiNER inputs, the factored ones included).',
    '',
  );
  L.push('| engine | variant | batch | words/s | ratio to the reference, same variant | same entities as the reference (batch 1) |', '|---|---|---|---|---|---|');
  for (const variant of PROJECT_VARIANTS) {
    const ref = byName.get(`shipped-ref-${variant}-b1`);
    if (ref === undefined) continue;
    const base = wps(ref)!;
    const b1 = byName.get(`shipped-ours-${variant}-b1`);
    const agree = agreement(ents(b1), ents(ref));
    L.push(`| reference (ONNX) | ${variant} | 1 | ${fmtSpread(base)} | 1.00× | |`);
    for (const batch of [1, 8]) {
      const m = byName.get(`shipped-ours-${variant}-b${batch}`);
      const w = wps(m);
      if (!w) continue;
      L.push(`| ours | ${variant} | ${batch} | ${fmtSpread(w)} | ${fmt(w.median / base.median, 2)}× | ${batch === 1 ? `${agree.identicalTexts}/${agree.texts} texts` : ''} |`);
    }
  }
  if (byName.size === 0) L.push('_Not measured: the model folder had no ONNX files._');
  return section(`shipped-model:${cpu.kind}`, L);
}

/** Replaces this CPU kind's section in `path` (or adds it), leaving everything else as it is. */
export function writeShippedSection(r: BenchResults, model: string, path: string): void {
  writeSection(path, `shipped-model:${cpuInfo().kind}`, shippedSection(r, model));
}
