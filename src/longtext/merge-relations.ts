import type { Relation, RelationEnd } from '../core/relations.js';
import type { WordSpan } from '../core/spans.js';
import type { Entity } from '../core/types.js';
import type { Window } from './windows.js';

/**
 * Relations found window by window (a native relation model) → relations of the whole text.
 *
 * A window's relation joins two of that window's decoded spans. It is kept when both spans are
 * entities of the text after the window merge (same words and label): so a relation never names
 * an entity the article does not report, e.g. one cut at a window's edge that the neighbouring
 * window saw whole. Two overlapping windows that find the same relation (same head span,
 * relation, tail span) report it once, with the higher score. A relation whose head and tail do
 * not fall in one window is out of reach. A text of one window is the model's own output.
 */

/** One relation of a window: its two spans in the window's word indices. */
export interface WindowRelation {
  head: WordSpan;
  tail: WordSpan;
  /** Index into the relation names asked. */
  relation: number;
  score: number;
}

export function textRelations(
  text: string,
  prepared: { starts: Int32Array; ends: Int32Array; windows: readonly Window[] },
  perWindow: readonly (readonly WindowRelation[])[],
  entities: readonly Entity[],
  labels: readonly string[],
  relationNames: readonly string[],
  field: string,
): Relation[] {
  const byKey = new Map<string, Entity>();
  for (const e of entities) byKey.set(`${e.start}:${e.end}:${e.label}`, e);
  const end = (window: Window, span: WordSpan): RelationEnd | undefined => {
    const start = prepared.starts[window.start + span.start]!;
    const stop = prepared.ends[window.start + span.end]!;
    const entity = byKey.get(`${start}:${stop}:${labels[span.label]}`);
    return entity && { text: text.slice(start, stop), label: entity.label, start, end: stop };
  };
  const found = new Map<string, Relation>();
  perWindow.forEach((list, w) => {
    const window = prepared.windows[w]!;
    for (const r of list) {
      const head = end(window, r.head);
      const tail = end(window, r.tail);
      const relation = relationNames[r.relation];
      if (head === undefined || tail === undefined || relation === undefined) continue;
      const key = `${head.start}:${head.end}|${relation}|${tail.start}:${tail.end}`;
      const prev = found.get(key);
      if (prev === undefined || prev.score < r.score) found.set(key, { head, relation, tail, score: r.score, field });
    }
  });
  return [...found.values()].sort(
    (a, b) => a.tail.start - b.tail.start || a.head.start - b.head.start || (a.relation < b.relation ? -1 : a.relation > b.relation ? 1 : 0),
  );
}
