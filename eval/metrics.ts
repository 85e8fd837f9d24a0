/**
 * Entity-level scores: exact span and label, micro-averaged, per label, and per
 * position bucket (entities starting before / after a word index). Pure; no model.
 */

export interface Span {
  start: number;
  end: number;
  label: string;
}

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

export interface Scores extends Counts {
  precision: number;
  recall: number;
  f1: number;
}

export function emptyCounts(): Counts {
  return { tp: 0, fp: 0, fn: 0 };
}

export function scores(c: Counts): Scores {
  const precision = c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...c, precision, recall, f1 };
}

export function add(into: Counts, c: Counts): void {
  into.tp += c.tp;
  into.fp += c.fp;
  into.fn += c.fn;
}

const key = (s: Span): string => `${s.start}:${s.end}:${s.label}`;

/** Matches one text's predictions with its gold spans: each gold span is matched at most once. */
export function matchText(gold: readonly Span[], predicted: readonly Span[]): { tp: Span[]; fp: Span[]; fn: Span[] } {
  const want = new Map<string, number>();
  for (const g of gold) want.set(key(g), (want.get(key(g)) ?? 0) + 1);
  const tp: Span[] = [];
  const fp: Span[] = [];
  for (const p of predicted) {
    const left = want.get(key(p)) ?? 0;
    if (left > 0) {
      want.set(key(p), left - 1);
      tp.push(p);
    } else fp.push(p);
  }
  // Gold copies that no prediction consumed are misses.
  const matched = new Map<string, number>();
  for (const p of tp) matched.set(key(p), (matched.get(key(p)) ?? 0) + 1);
  const fn: Span[] = [];
  for (const g of gold) {
    const m = matched.get(key(g)) ?? 0;
    if (m > 0) matched.set(key(g), m - 1);
    else fn.push(g);
  }
  return { tp, fp, fn };
}

/** Accumulates counts by label and by bucket over many texts. */
export class Scorer {
  readonly total = emptyCounts();
  readonly byLabel = new Map<string, Counts>();
  readonly byBucket = new Map<string, Counts>();

  /** `bucketOf(span)` names the position bucket of a span (e.g. "before 384"), or undefined for none. */
  constructor(private readonly bucketOf?: (s: Span) => string | undefined) {}

  addText(gold: readonly Span[], predicted: readonly Span[]): void {
    const { tp, fp, fn } = matchText(gold, predicted);
    const bump = (s: Span, field: keyof Counts): void => {
      this.total[field]++;
      const byLabel = this.byLabel.get(s.label) ?? emptyCounts();
      byLabel[field]++;
      this.byLabel.set(s.label, byLabel);
      const bucket = this.bucketOf?.(s);
      if (bucket !== undefined) {
        const c = this.byBucket.get(bucket) ?? emptyCounts();
        c[field]++;
        this.byBucket.set(bucket, c);
      }
    };
    for (const s of tp) bump(s, 'tp');
    for (const s of fp) bump(s, 'fp');
    for (const s of fn) bump(s, 'fn');
  }
}

/** Index of the word containing UTF-16 offset `at` (the last word starting at or before it). */
export function wordIndexAt(wordStarts: ArrayLike<number>, at: number): number {
  let lo = 0;
  let hi = wordStarts.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (wordStarts[mid]! <= at) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
