/**
 * The held-out evaluation sets (test splits of ../shared/data/ner, GLiNER format with
 * character spans) and the labels each is scored on. Gold spans are UTF-16 offsets.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Span } from './metrics.js';

export interface EvalText {
  id: string;
  text: string;
  gold: Span[];
}

export interface EvalSet {
  name: string;
  file: string;
  /** Labels given to the model; gold spans with other labels are left out. */
  labels: string[];
  /** Whole documents (windows matter, scores by position) rather than sentences. */
  documents: boolean;
  texts: EvalText[];
}

interface SetSpec {
  name: string;
  file: string;
  labels?: string[];
  documents: boolean;
}

const NEWS = ['person', 'organization', 'location'];

/** What `npm run eval` scores. Test splits only; GUM Wikinews dev for window tuning. */
export const TEST_SETS: readonly SetSpec[] = [
  { name: 'GUM Wikinews test', file: 'gum_wikinews.test.jsonl', labels: NEWS, documents: true },
  { name: 'UNER EWT test', file: 'uner_en_ewt.test.jsonl', labels: NEWS, documents: true },
  { name: 'WNUT-17 test', file: 'wnut17.test.jsonl', documents: false },
  ...['politics', 'science', 'music', 'literature', 'ai'].map((d) => ({
    name: `CrossNER ${d} test`,
    file: `crossner_${d}.test.jsonl`,
    documents: false,
  })),
];

export const DEV_SET: SetSpec = { name: 'GUM Wikinews dev', file: 'gum_wikinews.dev.jsonl', labels: NEWS, documents: true };

interface Row {
  id: string;
  text: string;
  spans: Array<[number, number, string]>;
  spans_utf16?: Array<[number, number, string]>;
}

export function loadSet(dataDir: string, spec: SetSpec, limit = Infinity): EvalSet {
  const path = `${dataDir}/${spec.file}`;
  if (!existsSync(path)) throw new Error(`${path} not found: pass --data <folder of the GLiNER-format NER files>`);
  const rows = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row)
    .slice(0, limit);
  const present = new Set(rows.flatMap((r) => r.spans.map((s) => s[2])));
  // Sentence sets are scored on all their own labels; the catch-all one is not a type to ask for.
  const labels = spec.labels ?? [...present].filter((l) => l !== 'miscellaneous').sort();
  const keep = new Set(labels);
  const texts = rows.map((r) => ({
    id: r.id,
    text: r.text,
    gold: (r.spans_utf16 ?? r.spans).filter((s) => keep.has(s[2])).map(([start, end, label]) => ({ start, end, label })),
  }));
  return { name: spec.name, file: spec.file, labels, documents: spec.documents, texts };
}
