import type { ExtractionRequest, FieldEntities } from '../core/extraction.js';
import type { ModelInfo } from '../core/types.js';
import type { WireError } from '../inference/protocol.js';
import type { GnerSettings, GnerStats } from './extract-fields.js';
import type { GnerLoadOptions } from './model.js';

/** Messages between the GNER pool and its workers: one whole article per request. */

export interface GnerInit {
  modelDir: string;
  load: GnerLoadOptions;
  settings: GnerSettings;
}

/** The part of an ExtractionRequest that crosses threads (no signal; plain data). */
export type GnerWireRequest = Pick<ExtractionRequest, 'fields' | 'labels' | 'decode' | 'taskPrompt' | 'relations'>;

/** `cancel`: the article was aborted; the worker stops it between two generate calls (its reply is then `failed` ABORTED). */
export type ToGnerWorker = { type: 'extract'; id: number; request: GnerWireRequest } | { type: 'cancel'; id: number } | { type: 'shutdown' };

export type FromGnerWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-failed'; error: WireError }
  | { type: 'extracted'; id: number; results: FieldEntities[]; stats: GnerStats; ms: number }
  | { type: 'failed'; id: number; error: WireError };
