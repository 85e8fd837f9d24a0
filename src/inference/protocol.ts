import type { ErrorCode } from '../errors.js';
import type { LoadOptions } from '../gliner/model.js';
import type { DecodeOptions, ModelInfo } from '../core/types.js';

/**
 * Messages between the pool (main thread) and its workers. Every request carries an
 * `id`; every reply names it. Typed arrays travel as transferables, not copies.
 */

export interface WorkerInit {
  modelDir: string;
  load: LoadOptions;
}

/** A coded error crossing the thread boundary. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** Main → worker. */
export type ToWorker =
  | {
      type: 'infer';
      id: number;
      labels: string[];
      decode: DecodeOptions;
      ids: Int32Array[];
      counts: Int32Array[];
      /** Relation names for a native relation model (empty: none asked), and their threshold. */
      relations?: { names: string[]; threshold: number };
    }
  | { type: 'shutdown' };

/**
 * Decoded spans of a batch, flattened: for item i, spans `offsets[i] .. offsets[i+1]` of
 * `words` (start, end pairs), `labels` and `scores`.
 */
export interface WireSpans {
  offsets: Int32Array;
  words: Int32Array;
  labels: Int32Array;
  scores: Float32Array;
}

/**
 * Decoded relations of a batch, flattened like `WireSpans`: for item i, relations
 * `offsets[i] .. offsets[i+1]`; `ends` holds (head, tail) indices into item i's spans.
 */
export interface WireRelations {
  offsets: Int32Array;
  ends: Int32Array;
  relations: Int32Array;
  scores: Float32Array;
}

/** Worker → main. */
export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-failed'; error: WireError }
  | { type: 'inferred'; id: number; spans: WireSpans; relations?: WireRelations; encodeMs: number; runMs: number; decodeMs: number }
  | { type: 'failed'; id: number; error: WireError };
