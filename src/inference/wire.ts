/**
 * The wire encoding of a batch's results (protocol.ts `WireSpans` / `WireRelations`): per-text
 * lists flattened into typed arrays that cross the thread boundary as transferables, and read
 * back per text. Both directions here, so the slot and the pool cannot disagree on the layout.
 */
import type { WordSpan } from '../core/spans.js';
import type { WordRelation } from '../gliner/relex-decode.js';
import type { WindowRelation } from '../longtext/merge-relations.js';
import type { WireRelations, WireSpans } from './protocol.js';

/** Per-text items as offsets plus, per item, two ints, one int and a score. */
function flattenRows<T>(rows: readonly (readonly T[])[], put: (item: T, pairs: Int32Array, ints: Int32Array, scores: Float32Array, k: number) => void) {
  const total = rows.reduce((a, r) => a + r.length, 0);
  const offsets = new Int32Array(rows.length + 1);
  const pairs = new Int32Array(total * 2);
  const ints = new Int32Array(total);
  const scores = new Float32Array(total);
  let k = 0;
  rows.forEach((list, i) => {
    offsets[i] = k;
    for (const item of list) put(item, pairs, ints, scores, k++);
  });
  offsets[rows.length] = k;
  return { offsets, pairs, ints, scores };
}

export function encodeSpans(spans: readonly (readonly WordSpan[])[]): WireSpans {
  const f = flattenRows(spans, (s, pairs, ints, scores, k) => {
    pairs[2 * k] = s.start;
    pairs[2 * k + 1] = s.end;
    ints[k] = s.label;
    scores[k] = s.score;
  });
  return { offsets: f.offsets, words: f.pairs, labels: f.ints, scores: f.scores };
}

export function encodeRelations(relations: readonly (readonly WordRelation[])[]): WireRelations {
  const f = flattenRows(relations, (r, pairs, ints, scores, k) => {
    pairs[2 * k] = r.head;
    pairs[2 * k + 1] = r.tail;
    ints[k] = r.relation;
    scores[k] = r.score;
  });
  return { offsets: f.offsets, ends: f.pairs, relations: f.ints, scores: f.scores };
}

/** The buffers of an encoded result, to transfer. */
export function buffersOf(wire: WireSpans | WireRelations): ArrayBuffer[] {
  return Object.values(wire).map((a: Int32Array | Float32Array) => a.buffer as ArrayBuffer);
}

/** Text i's spans, word indices shifted back by `shift` (a task prompt's words). */
export function decodeSpans(spans: WireSpans, i: number, shift: number): WordSpan[] {
  const out: WordSpan[] = [];
  for (let k = spans.offsets[i]!; k < spans.offsets[i + 1]!; k++) {
    out.push({ start: spans.words[2 * k]! - shift, end: spans.words[2 * k + 1]! - shift, label: spans.labels[k]!, score: spans.scores[k]! });
  }
  return out;
}

/** Text i's relations, their ends resolved to the text's spans (as `decodeSpans` returned them). */
export function decodeRelations(relations: WireRelations, i: number, spans: readonly WordSpan[]): WindowRelation[] {
  const out: WindowRelation[] = [];
  for (let k = relations.offsets[i]!; k < relations.offsets[i + 1]!; k++) {
    const head = spans[relations.ends[2 * k]!];
    const tail = spans[relations.ends[2 * k + 1]!];
    if (head && tail) out.push({ head, tail, relation: relations.relations[k]!, score: relations.scores[k]! });
  }
  return out;
}
