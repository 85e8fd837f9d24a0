/**
 * Engine defaults that the configuration schema also needs, and the checks of decoding and relation
 * options. A contract at the bottom: it imports nothing of the engine, so loading the config
 * does not load the tokenizer or ONNX Runtime.
 */
import { EnricherError } from '../errors.js';
import type { ExtractionRequest } from './extraction.js';
import type { DecodeOptions, ModelInfo } from './types.js';

/** Default decoding, as in the reference's `predict_entities`. */
export const DEFAULT_DECODE: Readonly<DecodeOptions> = Object.freeze({ threshold: 0.5, flatNer: true, multiLabel: false });

/** Default words shared by neighbouring windows: ≥ 2·(max_width − 1) for 12-word spans, ~9% of a window. */
export const DEFAULT_OVERLAP_WORDS = 32;

/** Padded sub-tokens per inference batch (rows × longest row): `BATCH_MAX_TOKENS` and the engine's `batchMaxTokens`. */
export const DEFAULT_BATCH_MAX_TOKENS = 8192;

/**
 * Windows per inference batch when `BATCH_MAX_ITEMS` is unset, by execution provider, as
 * measured (BENCHMARKS.md): on cpu batching costs ~4% more per text on 2 cores even at equal
 * lengths; on cuda a batch keeps the device busy.
 */
export const DEFAULT_BATCH_MAX_ITEMS: Readonly<Record<'cpu' | 'cuda', number>> = Object.freeze({ cpu: 1, cuda: 32 });

/**
 * `GlinerEngine`'s windows per batch when `batchMaxItems` is not given. It differs from the
 * service's measured default on purpose: the library keeps its 0.1.0 default, the reference's
 * `GLiNER.inference(batch_size=8)`, for callers who compare it with the reference or tuned
 * their calls to it; the service chooses per execution provider (`DEFAULT_BATCH_MAX_ITEMS`).
 */
export const ENGINE_BATCH_MAX_ITEMS = 8;

/** Smallest text budget a window may have after the prompt. */
export const MIN_TEXT_TOKENS = 32;

/** Checks decoding options; the reference accepts anything, we refuse what cannot be meant. */
export function validateDecode(opts: Partial<DecodeOptions>): DecodeOptions {
  const d = { ...DEFAULT_DECODE, ...opts };
  if (typeof d.threshold !== 'number' || !(d.threshold >= 0 && d.threshold < 1)) {
    throw new EnricherError('OPTIONS_INVALID', `threshold ${String(d.threshold)} must be a number in [0, 1)`);
  }
  if (typeof d.flatNer !== 'boolean' || typeof d.multiLabel !== 'boolean') {
    throw new EnricherError('OPTIONS_INVALID', 'flatNer and multiLabel must be booleans');
  }
  return d;
}

/**
 * `request.relations` checked against the model and the request's other options; the names
 * de-duplicated (first seen first: relation class i is names[i]). Undefined when none are asked.
 */
export function validateRelationRequest(request: ExtractionRequest, model: ModelInfo): { names: string[]; threshold: number } | undefined {
  if (request.relations === undefined) return undefined;
  const { names, threshold } = request.relations;
  const bad = (why: string): never => {
    throw new EnricherError('OPTIONS_INVALID', `relations: ${why}`);
  };
  if (model.relationsLayer === undefined) bad('this model has no relation head (relations_layer is null); ask relations through the multitask prompt path');
  if (request.taskPrompt !== undefined && request.taskPrompt !== '') bad('a native relation model takes no task prompt');
  if (request.mergeAdjacent === true) bad('mergeAdjacent would change the spans relations are reported on');
  if (!(typeof threshold === 'number' && threshold >= 0 && threshold <= 1)) bad(`threshold ${String(threshold)} must be a number in 0..1`);
  if (!Array.isArray(names)) bad('names must be a list');
  return { names: [...new Set(names)], threshold };
}
