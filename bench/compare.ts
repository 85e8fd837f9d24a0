import { codePointToUtf16 } from '../src/gliner/words.js';

/** An entity as either engine reports it. */
export interface AnyEntity {
  start: number;
  end: number;
  label: string;
  score: number;
}

/** Reference entities (Python code points) → UTF-16 offsets of `text`. */
export function referenceToUtf16(text: string, ents: readonly AnyEntity[]): AnyEntity[] {
  const map = codePointToUtf16(text);
  return ents.map((e) => ({ ...e, start: map(e.start), end: map(e.end) }));
}

export interface Agreement {
  texts: number;
  identicalTexts: number;
  entitiesA: number;
  entitiesB: number;
  /** Largest score difference among entities with the same span and label. */
  maxScoreDiff: number;
}

/** Same spans and labels in the same order, scores within `tol`, text by text. */
export function agreement(a: readonly AnyEntity[][], b: readonly AnyEntity[][], tol = 1e-4): Agreement {
  let identicalTexts = 0;
  let maxScoreDiff = 0;
  a.forEach((ea, i) => {
    const eb = b[i] ?? [];
    const same =
      ea.length === eb.length &&
      ea.every((x, k) => {
        const y = eb[k]!;
        const spanSame = x.start === y.start && x.end === y.end && x.label === y.label;
        if (spanSame) maxScoreDiff = Math.max(maxScoreDiff, Math.abs(x.score - y.score));
        return spanSame && Math.abs(x.score - y.score) <= tol;
      });
    if (same) identicalTexts++;
  });
  return {
    texts: a.length,
    identicalTexts,
    entitiesA: a.reduce((s, x) => s + x.length, 0),
    entitiesB: b.reduce((s, x) => s + x.length, 0),
    maxScoreDiff,
  };
}

/** Precision and recall of `test` against `truth` on exact (start, end, label) matches. */
export function precisionRecall(truth: readonly AnyEntity[][], test: readonly AnyEntity[][]): { precision: number; recall: number } {
  let tp = 0;
  let nTest = 0;
  let nTruth = 0;
  truth.forEach((t, i) => {
    const keys = new Set(t.map((e) => `${e.start}:${e.end}:${e.label}`));
    const got = test[i] ?? [];
    nTruth += t.length;
    nTest += got.length;
    for (const e of got) if (keys.has(`${e.start}:${e.end}:${e.label}`)) tp++;
  });
  return { precision: nTest ? tp / nTest : 1, recall: nTruth ? tp / nTruth : 1 };
}
