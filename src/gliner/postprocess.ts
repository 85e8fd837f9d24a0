import type { WordSpan } from '../core/spans.js';
import type { DecodeOptions, Entity } from '../core/types.js';
import { mergeWindowSpans } from '../longtext/merge.js';
import type { PreparedText } from './preprocess.js';

/**
 * The one way a text's decoded windows become its entities: window spans merged into text
 * words (`mergeWindowSpans`), words into UTF-16 offsets (`toEntities`), then the optional
 * adjacent-entity merge.
 */
export function textEntities(
  text: string,
  prepared: Pick<PreparedText, 'starts' | 'ends' | 'windows'>,
  perWindow: readonly (readonly WordSpan[])[],
  labels: readonly string[],
  decode: Pick<DecodeOptions, 'flatNer' | 'multiLabel'>,
  adjacent = false,
): Entity[] {
  const merged = mergeWindowSpans(perWindow, prepared.windows, decode.flatNer, decode.multiLabel);
  const entities = toEntities(text, prepared.starts, prepared.ends, merged, labels);
  return adjacent ? mergeAdjacent(text, entities) : entities;
}

/**
 * Word spans → entities with UTF-16 offsets into `text` (start of the first word,
 * end of the last), so `text.slice(start, end) === entity.text` by construction.
 */
export function toEntities(
  text: string,
  starts: Int32Array,
  ends: Int32Array,
  spans: readonly WordSpan[],
  labels: readonly string[],
): Entity[] {
  return spans.map((s) => {
    const start = starts[s.start]!;
    const end = ends[s.end]!;
    return { start, end, text: text.slice(start, end), label: labels[s.label]!, score: s.score };
  });
}

/**
 * NuNER Zero post-merge (from its model card, opt-in): in start order, an entity is
 * merged into the previous one when both have the same label and it starts where the
 * previous ends or one character later. The merged entity keeps the first score.
 */
export function mergeAdjacent(text: string, entities: readonly Entity[]): Entity[] {
  const out: Entity[] = [];
  for (const e of entities) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.label === e.label && (e.start === prev.end || e.start === prev.end + 1)) {
      prev.end = e.end;
      prev.text = text.slice(prev.start, prev.end);
    } else {
      out.push({ ...e });
    }
  }
  return out;
}
