import type { GoldenEntity } from './golden.js';

/**
 * Bounded comparisons for the parity tests: what "equal to the reference" means when the
 * golden files were made on another CPU.
 *
 * ONNX Runtime's matrix kernels are chosen by instruction set (AVX-512, AVX2, SSE), so the
 * same fp32 graph gives slightly different logits on different machines. Measured with the
 * committed goldens (made on an Intel AVX-512 VNNI machine), max |Δlogit| over every batch of
 * the tiny models: AMD EPYC AVX2 3.7e-5 (span) / 2.7e-5 (token), an SSE4.2-only CPU 5.2e-5.
 * The bound below is about twice the worst of those. An entity can only differ where that
 * drift can move a decision: its score lies within SCORE_TOLERANCE of the threshold, or of an
 * overlapping rival that greedy decoding chose instead. Every other difference is a mismatch, and every case is compared before the
 * test reports (all mismatches together).
 */

/** |Δlogit| ≤ LOGIT_ABS + LOGIT_REL·|reference logit|. */
export const LOGIT_ABS = 1e-4;
export const LOGIT_REL = 1e-5;
/** Score difference allowed on an entity both sides found, and the decision margin. */
export const SCORE_TOLERANCE = 1e-4;
/** Tolerated (near-threshold or near-tie) differences may be at most this share of entities... */
export const TOLERATED_SHARE = 0.01;
/** ...or this many, whichever is larger. */
export const TOLERATED_MIN = 2;

export interface LogitReport {
  maxAbs: number;
  violations: number;
  values: number;
  first?: { index: number; want: number; have: number };
}

export function compareLogits(want: ArrayLike<number>, have: ArrayLike<number>): LogitReport {
  const report: LogitReport = { maxAbs: 0, violations: 0, values: want.length };
  if (have.length !== want.length) return { ...report, violations: want.length };
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const d = Math.abs(w - have[i]!);
    if (d > report.maxAbs) report.maxAbs = d;
    if (!(d <= LOGIT_ABS + LOGIT_REL * Math.abs(w))) {
      report.violations++;
      report.first ??= { index: i, want: w, have: have[i]! };
    }
  }
  return report;
}

/** An entity as both sides report it (UTF-16 offsets). */
export type Ent = GoldenEntity;

/** Identity of an entity for matching: span and label. */
const entityKey = (e: Ent): string => `${e.start}:${e.end}:${e.label}`;

export interface EntityReport {
  /** Entities the reference found (the denominator of the tolerated share). */
  reference: number;
  matched: number;
  tolerated: string[];
  mismatches: string[];
}

export function emptyReport(): EntityReport {
  return { reference: 0, matched: 0, tolerated: [], mismatches: [] };
}

const show = (e: Ent): string => `[${e.start},${e.end}) ${JSON.stringify(e.text)}/${e.label} ${e.score.toFixed(6)}`;
const overlaps = (a: Ent, b: Ent): boolean => a.start < b.end && b.start < a.end;

/** Compare one text's entities into `into`; `where` names the case and text. */
export function compareEntities(
  want: readonly Ent[],
  have: readonly Ent[],
  threshold: number,
  where: string,
  into: EntityReport,
): void {
  into.reference += want.length;
  const haveByKey = new Map(have.map((e) => [entityKey(e), e]));
  const onlyWant: Ent[] = [];
  for (const w of want) {
    const h = haveByKey.get(entityKey(w));
    if (h === undefined) {
      onlyWant.push(w);
      continue;
    }
    haveByKey.delete(entityKey(w));
    if (h.text !== w.text) into.mismatches.push(`${where}: text ${show(h)} vs reference ${show(w)}`);
    else if (Math.abs(h.score - w.score) > SCORE_TOLERANCE) into.mismatches.push(`${where}: score ${show(h)} vs reference ${show(w)}`);
    else into.matched++;
  }
  const onlyHave = [...haveByKey.values()];
  const nearThreshold = (e: Ent): boolean => Math.abs(e.score - threshold) <= SCORE_TOLERANCE;
  // A greedy tie: each side kept a different one of two overlapping candidates whose scores are
  // within the tolerance of each other (or one span whose best label flipped).
  for (const w of [...onlyWant]) {
    const h = onlyHave.find((x) => overlaps(x, w) && Math.abs(x.score - w.score) <= 2 * SCORE_TOLERANCE);
    if (h === undefined) continue;
    onlyWant.splice(onlyWant.indexOf(w), 1);
    onlyHave.splice(onlyHave.indexOf(h), 1);
    into.tolerated.push(`${where}: greedy tie ${show(h)} vs reference ${show(w)}`);
  }
  for (const w of onlyWant) {
    if (nearThreshold(w)) into.tolerated.push(`${where}: near threshold, reference only ${show(w)}`);
    else into.mismatches.push(`${where}: missing ${show(w)}`);
  }
  for (const h of onlyHave) {
    if (nearThreshold(h)) into.tolerated.push(`${where}: near threshold, ours only ${show(h)}`);
    else into.mismatches.push(`${where}: extra ${show(h)}`);
  }
}

/** The tolerated differences are few enough to be drift, not a bug. */
export function toleratedWithinBudget(r: EntityReport): boolean {
  return r.tolerated.length <= Math.max(TOLERATED_MIN, Math.floor(TOLERATED_SHARE * r.reference));
}

/** Entity-level F1 between two sets of results (exact span + label), for agreement bounds. */
export function agreementF1(pairs: readonly { want: readonly Ent[]; have: readonly Ent[] }[]): number {
  let tp = 0;
  let nw = 0;
  let nh = 0;
  for (const { want, have } of pairs) {
    const keys = new Set(want.map(entityKey));
    tp += have.filter((e) => keys.has(entityKey(e))).length;
    nw += want.length;
    nh += have.length;
  }
  return nw + nh === 0 ? 1 : (2 * tp) / (nw + nh);
}
