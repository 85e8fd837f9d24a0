/** EVALUATION.md from one `npm run eval` run (results also kept in eval/out/results.json). */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { scores, type Counts } from './metrics.js';

export interface ThresholdResult {
  threshold: number;
  total: Counts;
  byLabel: Record<string, Counts>;
  before?: Counts;
  after?: Counts;
}

export interface SystemResult {
  name: string;
  seconds: number;
  byThreshold: ThresholdResult[];
}

export interface TuningRow {
  window: { maxWords: number; overlapWords: number; cutAtSentences: boolean };
  total: Counts;
  after: Counts;
}

export interface EvalResults {
  model: string;
  /** The ONNX variant every system ran on (fp32 when the folder has it, else its most exact file). */
  variant: string;
  /** The folder's other variants, each scored in an "ours <variant>" row (absent in older results). */
  extraVariants?: string[];
  /** Windows per inference batch for ours (absent in older results, which ran 8). */
  batch?: number;
  data: string;
  quick: boolean;
  boundaryWords: number;
  thresholds: number[];
  thresholdFilterExact: boolean | null;
  tuning: TuningRow[];
  /** Every set the run meant to score; fewer in `sets` while it runs (EVALUATION.md says partial). */
  setsPlanned: string[];
  sets: Array<{
    name: string;
    file: string;
    texts: number;
    words: number;
    labels: string[];
    documents: boolean;
    gold: number;
    systems: SystemResult[];
  }>;
  minutes: number;
  date: string;
}

const pct = (x: number): string => (100 * x).toFixed(1);
const f1 = (c: Counts | undefined): string => (c === undefined ? '–' : pct(scores(c).f1));
const prf = (c: Counts): string => {
  const s = scores(c);
  return `${pct(s.precision)} | ${pct(s.recall)} | ${pct(s.f1)}`;
};
const at = (s: SystemResult, t: number): ThresholdResult => s.byThreshold.find((x) => x.threshold === t)!;

export function writeEvaluation(r: EvalResults, path: string): void {
  const headline = r.sets.find((s) => s.documents)!;
  const L: string[] = [];
  L.push('# Evaluation', '');
  if (r.sets.length < r.setsPlanned.length) {
    L.push(`**Partial: ${r.sets.length} of ${r.setsPlanned.length} sets scored so far** (missing: ${r.setsPlanned.slice(r.sets.length).join(', ')}).`, '');
  }
  L.push(
    `Written by \`npm run eval\` on ${r.date} (${r.minutes.toFixed(0)} min, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores). ` +
      `Model: \`${r.model}\`, ${r.variant} variant${r.variant !== 'fp32' ? ' (the folder has no `model.onnx`, so there is no row on the reference\'s fp32 graph)' : ''}` +
      `${(r.extraVariants ?? []).length > 0 ? `; the rows "ours <variant>" run the folder's other files (${r.extraVariants!.map((v) => `\`${v}\``).join(', ')}) with the defaults` : ''}; ours ran ${r.batch ?? 8} window${(r.batch ?? 8) === 1 ? '' : 's'} per batch${r.batch === 1 ? ' (the service\'s CPU default; dynamic int8 quantises a batch\'s activations together, so its scores depend on it)' : ''}. Scores are micro precision / recall / F1 in %, exact span and label, on held-out test splits ` +
      '(never trained on). Every system ran on the same model folder in the same run; the reference is the `gliner` package as ' +
      'its users call it, `predict_entities` on the whole text (beyond `max_len` words it keeps only the beginning).',
    '',
  );
  L.push(`## Headline: ${headline.name}, threshold 0.5`, '');
  L.push(`${headline.texts} whole news documents, ${headline.words} words, labels ${headline.labels.join(', ')}; ${headline.gold} gold entities.`, '');
  L.push(`| system | P | R | F1 | F1 before word ${r.boundaryWords} | F1 after word ${r.boundaryWords} |`, '|---|---|---|---|---|---|');
  for (const s of headline.systems) {
    const t = at(s, 0.5);
    L.push(`| ${s.name} | ${prf(t.total)} | ${f1(t.before)} | ${f1(t.after)} |`);
  }
  L.push('');
  L.push('## All sets, F1 by threshold', '');
  L.push('| set | system | F1 @0.3 | F1 @0.5 | F1 @0.7 | P @0.5 | R @0.5 |', '|---|---|---|---|---|---|---|');
  for (const set of r.sets) {
    for (const s of set.systems) {
      const [a, b, c] = r.thresholds.map((t) => at(s, t));
      const mid = scores(b!.total);
      L.push(`| ${set.name} | ${s.name} | ${f1(a!.total)} | ${f1(b!.total)} | ${f1(c!.total)} | ${pct(mid.precision)} | ${pct(mid.recall)} |`);
    }
  }
  L.push('');
  L.push(`## Documents: entities before and after word ${r.boundaryWords}, threshold 0.5`, '');
  L.push(`| set | system | F1 before | F1 after | after / before | gold after |`, '|---|---|---|---|---|---|');
  for (const set of r.sets.filter((s) => s.documents)) {
    for (const s of set.systems) {
      const t = at(s, 0.5);
      const b = scores(t.before!).f1;
      const a = scores(t.after!).f1;
      L.push(`| ${set.name} | ${s.name} | ${pct(b)} | ${pct(a)} | ${b === 0 ? '–' : (a / b).toFixed(2)} | ${t.after!.tp + t.after!.fn} |`);
    }
  }
  L.push('');
  L.push('## Per label, threshold 0.5 (ours, windows + merge)', '');
  L.push('| set | label | gold | P | R | F1 |', '|---|---|---|---|---|---|');
  for (const set of r.sets) {
    const ours = set.systems.find((s) => s.name === 'ours, windows + merge')!;
    const t = at(ours, 0.5);
    for (const label of set.labels) {
      const c = t.byLabel[label] ?? { tp: 0, fp: 0, fn: 0 };
      L.push(`| ${set.name} | ${label} | ${c.tp + c.fn} | ${prf(c)} |`);
    }
  }
  L.push('');
  L.push('## Window settings, tuned on GUM Wikinews dev (threshold 0.5)', '');
  L.push(
    'Tuning uses the dev documents only; the test tables above use the engine defaults. ' +
      `Overlap is in words; "after" is F1 on entities starting after word ${r.boundaryWords}.`,
    '',
  );
  L.push('| window words | overlap | cut at sentence ends | F1 | F1 after |', '|---|---|---|---|---|');
  for (const row of r.tuning) {
    L.push(`| ${row.window.maxWords} | ${row.window.overlapWords} | ${row.window.cutAtSentences ? 'yes' : 'no'} | ${f1(row.total)} | ${f1(row.after)} |`);
  }
  L.push('');
  L.push('## Method', '');
  L.push(
    `- Each system ran once at threshold ${r.thresholds[0]}; the ${r.thresholds.slice(1).join(' and ')} columns keep the entities scoring above them. ` +
      'That equals decoding at the higher threshold for flat greedy decoding (a span is kept iff no higher-scoring kept span overlaps it); ' +
      `checked in this run by decoding the first document set at 0.5 directly: ${r.thresholdFilterExact === null ? 'not checked' : r.thresholdFilterExact ? 'identical' : 'DIFFERENT'}.`,
    '- Sentence sets are scored on all their own labels except the catch-all `miscellaneous`; the news document sets on person, organization, location (GUM\'s other types are left out of gold).',
    `- "Before/after word ${r.boundaryWords}": by the word (GLiNER word splitting) where an entity starts; gold and predicted entities alike.`,
    '- Data: test splits of the open sets described in `../shared/data/ner/README.md` (WNUT-17, CrossNER, Universal NER English EWT, GUM Wikinews), with their licences; the model card lists them.',
    '- Speed is measured by `npm run bench`, not here.',
  );
  L.push('');
  writeFileSync(path, L.join('\n'));
}
