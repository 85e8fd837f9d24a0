import type { Relation } from './relations.js';
import type { DecodeOptions, Entity, ModelInfo, WindowOptions } from './types.js';

/** One text field of an article to extract from (e.g. `title`, `body`). */
export interface FieldText {
  field: string;
  text: string;
}

/** A request for one article: all its fields share labels and decoding options. */
export interface ExtractionRequest {
  fields: readonly FieldText[];
  labels: readonly string[];
  decode: DecodeOptions;
  window?: Partial<WindowOptions>;
  mergeAdjacent?: boolean;
  /**
   * Words placed before every window's text, after the label prompt, as multitask GLiNER models
   * read a task (relations: `relations/multitask.ts`). They take part in decoding like text, but
   * spans starting in them are dropped and offsets stay those of the field; they shrink each
   * window by their words and sub-tokens. A text that fits one window then equals the reference
   * run on `taskPrompt + " \n " + text` (minus spans starting in the prompt).
   */
  taskPrompt?: string;
  /**
   * Relations asked of a native relation model (`ModelInfo.relationsLayer` set) in the same pass
   * as the entities: the names go into the prompt after the labels, and each field's result gets
   * `relations` among its entities with a probability above `threshold`. Refused (OPTIONS_INVALID)
   * for other models (they use the multitask prompt, `relations/relation-extractor.ts`), with a
   * `taskPrompt` or with `mergeAdjacent`.
   */
  relations?: { names: readonly string[]; threshold: number };
}

/** Result per field, in request order. */
export interface FieldEntities {
  field: string;
  entities: Entity[];
  windows: number;
  words: number;
  /**
   * With `ExtractionRequest.relations`: relations whose head and tail are both entities of this
   * field (same span and label), found in one window, deduplicated across overlapping windows
   * (same head span, relation, tail span: highest score), in tail, head, relation order.
   */
  relations?: Relation[];
}

/**
 * The seam between the streaming pipeline and inference. Implemented by the one inference
 * path, `inference/pool.ts#InferencePool` (worker threads, or the calling thread with
 * `workers` 0), and by `GlinerEngine`, its library face; unit tests use fakes.
 */
export interface EntityExtractor {
  readonly model: ModelInfo;
  /** Rejects with an EnricherError (code LABELS_INVALID / OPTIONS_INVALID for bad requests). */
  extract(request: ExtractionRequest, signal?: AbortSignal): Promise<FieldEntities[]>;
  /** Idempotent. Pending requests reject with POOL_CLOSED. */
  close(): Promise<void>;
}
