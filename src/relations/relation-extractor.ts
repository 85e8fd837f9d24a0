/**
 * Relations between a field's entities with the multitask prompt (`multitask.ts`) on any span
 * model: pass 2 runs the model on the relation prompt + text with one label per (entity text,
 * relation) pair; each span found is a tail, its label names the head and the relation.
 *
 * Long texts: pass 2 reads the text in chunks of at most `chunkWords` words (overlapping by
 * `overlapWords`, cut at sentence ends, like the windows of pass 1), each with the labels of the
 * entities inside it only, so labels stay few and relations are local; a relation whose head and
 * tail lie in different chunks is out of reach. The same relation seen by two overlapping chunks
 * (same head span, relation, tail span) is reported once, with its highest score. Labels that do
 * not fit one prompt are asked in several passes of at most `labelsPerPass` (halved again when the
 * model's encoder budget refuses a pass). A text that fits one chunk with labels that fit one pass
 * is exactly the reference's `GLiNERRelationExtractor` (the parity test), except for spans that
 * start inside the prompt: the reference returns them with negative offsets, we drop them.
 */
import type { EntityExtractor, FieldText } from '../core/extraction.js';
import type { Relation } from '../core/relations.js';
import type { Entity, WindowOptions } from '../core/types.js';
import { EnricherError, isEnricherError } from '../errors.js';
import { sentenceEnds, splitWords } from '../gliner/words.js';
import { planWindows } from '../longtext/windows.js';
import { RELATION_TASK_PROMPT, parseRelationLabel, relationLabels } from './multitask.js';

export type { Relation, RelationEnd } from '../core/relations.js';

export interface RelationOptions {
  /** Relation names, e.g. `acquired`, `chief executive of`. */
  relations: readonly string[];
  /** Pass 2 keeps tails scoring above this. */
  threshold: number;
  /** At most this many `<entity> <> <relation>` labels per model pass. */
  labelsPerPass: number;
  /** Words of text per pass-2 chunk; at most the model's max_len minus the prompt's words. */
  chunkWords: number;
  /** Words shared by neighbouring chunks. */
  overlapWords: number;
  /** The windows' other settings inside the pool (encoder budget, overlap when a chunk needs several windows). */
  window?: Partial<WindowOptions>;
}

/** Words of the relation prompt (GLiNER word splitting): what it takes of a window. */
export const RELATION_PROMPT_WORDS = splitWords(RELATION_TASK_PROMPT).count;

interface Chunk {
  /** UTF-16 range of the chunk in the field. */
  from: number;
  to: number;
  entities: Entity[];
}

/** The chunks of a field that pass 2 reads, with the entities inside each. */
export function relationChunks(text: string, entities: readonly Entity[], chunkWords: number, overlapWords: number): Chunk[] {
  const words = splitWords(text);
  if (words.count === 0) return [];
  const windows = planWindows(new Uint8Array(words.count).fill(1), sentenceEnds(words), { maxWords: chunkWords, maxTextTokens: Infinity, overlapWords });
  return windows.map((w) => {
    // One chunk is the whole text, exactly as the reference reads it (leading spaces included).
    const from = windows.length === 1 ? 0 : words.starts[w.start]!;
    const to = windows.length === 1 ? text.length : words.ends[w.end - 1]!;
    return { from, to, entities: entities.filter((e) => e.start >= from && e.end <= to) };
  });
}

/** Label groups of at most `size`, in order. */
function groups<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The head of a relation: the pass-1 mention with the head's text nearest to the tail, preferring
 * one that does not overlap the tail (so a text mentioned twice does not relate a mention to
 * itself); when the only mention overlaps the tail, it is the head, as the reference (which names
 * heads by text only) reports such a relation too.
 */
function nearestHead(candidates: readonly Entity[], headText: string, tail: { start: number; end: number }): Entity | undefined {
  let best: Entity | undefined;
  let bestGap = Infinity;
  for (const e of candidates) {
    if (e.text !== headText) continue;
    const overlaps = e.start < tail.end && tail.start < e.end;
    const gap = overlaps ? Number.MAX_SAFE_INTEGER : e.end <= tail.start ? tail.start - e.end : e.start - tail.end;
    if (gap < bestGap || best === undefined) {
      best = e;
      bestGap = gap;
    }
  }
  return best;
}

export class RelationExtractor {
  constructor(
    private readonly extractor: EntityExtractor,
    private readonly options: RelationOptions,
  ) {
    // A chunk must hold words beside the prompt (a model without max_len, e.g. GNER, cannot take this pass).
    if (!(options.chunkWords >= 1)) throw new EnricherError('OPTIONS_INVALID', `relation chunks of ${options.chunkWords} words: the model's max_len leaves no room beside the relation prompt`);
  }

  /**
   * Relations among `entities` (pass 1's, of this field), in tail order. An entity whose text
   * cannot be a label (it carries `<>` or a prompt-token-like `<<`/`>>`) is never a head; a single
   * label the encoder budget cannot take (a very long entity text) is left out. The first failing
   * pass aborts the others.
   */
  async extract(field: FieldText, entities: readonly Entity[], signal?: AbortSignal): Promise<Relation[]> {
    const { relations, chunkWords, overlapWords, labelsPerPass } = this.options;
    if (relations.length === 0 || entities.length === 0) return [];
    const found = new Map<string, Relation>();
    const heads = entities.filter((e) => !/<>|<<|>>/.test(e.text));
    const chunks = relationChunks(field.text, entities, chunkWords, overlapWords).filter((c) => c.entities.some((e) => heads.includes(e)));
    const passes = new AbortController();
    const onAbort = (): void => passes.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(
        chunks.map(async (chunk) => {
          const labels = relationLabels(chunk.entities.filter((e) => heads.includes(e)).map((e) => e.text), relations);
          const text = field.text.slice(chunk.from, chunk.to);
          for (const tails of await Promise.all(groups(labels, labelsPerPass).map((g) => this.pass(field.field, text, g, passes.signal)))) {
            for (const t of tails) this.keep(found, field, chunk, t);
          }
        }),
      );
    } catch (err) {
      passes.abort(err);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return [...found.values()].sort((a, b) => a.tail.start - b.tail.start || a.head.start - b.head.start || (a.relation < b.relation ? -1 : a.relation > b.relation ? 1 : 0));
  }

  /** One model pass with these labels; a pass the encoder budget refuses is split in two, and a single refused label is left out. */
  private async pass(field: string, text: string, labels: readonly string[], signal: AbortSignal): Promise<Entity[]> {
    if (signal.aborted) throw signal.reason instanceof EnricherError ? signal.reason : new EnricherError('ABORTED', 'relation pass aborted');
    try {
      const [result] = await this.extractor.extract(
        {
          fields: [{ field, text }],
          labels,
          decode: { threshold: this.options.threshold, flatNer: true, multiLabel: false },
          taskPrompt: RELATION_TASK_PROMPT,
          ...(this.options.window ? { window: this.options.window } : {}),
        },
        signal,
      );
      return result?.entities ?? [];
    } catch (err) {
      if (!isEnricherError(err, 'LABELS_INVALID')) throw err;
      if (labels.length < 2) return [];
      const half = Math.ceil(labels.length / 2);
      return [...(await this.pass(field, text, labels.slice(0, half), signal)), ...(await this.pass(field, text, labels.slice(half), signal))];
    }
  }

  private keep(found: Map<string, Relation>, field: FieldText, chunk: Chunk, t: Entity): void {
    const { head: headText, relation } = parseRelationLabel(t.label);
    const tail = { start: t.start + chunk.from, end: t.end + chunk.from };
    const head = nearestHead(chunk.entities, headText, tail);
    if (head === undefined) return; // unreachable: every label names an entity of the chunk
    const tailEntity = chunk.entities.find((e) => e.start === tail.start && e.end === tail.end);
    const rel: Relation = {
      head: { text: head.text, label: head.label, start: head.start, end: head.end },
      relation,
      tail: { text: field.text.slice(tail.start, tail.end), label: tailEntity?.label ?? null, start: tail.start, end: tail.end },
      score: t.score,
      field: field.field,
    };
    const key = `${head.start}:${head.end}|${relation}|${tail.start}:${tail.end}`;
    const prev = found.get(key);
    if (prev === undefined || prev.score < rel.score) found.set(key, rel);
  }
}
