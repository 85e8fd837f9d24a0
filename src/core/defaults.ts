/**
 * Engine defaults that the configuration schema also needs, and the check of decoding
 * options. A contract at the bottom: it imports nothing of the engine, so loading the config
 * does not load the tokenizer or ONNX Runtime.
 */
import { EnricherError } from '../errors.js';
import type { DecodeOptions } from './types.js';

/** Default decoding, as in the reference's `predict_entities`. */
export const DEFAULT_DECODE: Readonly<DecodeOptions> = Object.freeze({ threshold: 0.5, flatNer: true, multiLabel: false });

/** Default words shared by neighbouring windows: ≥ 2·(max_width − 1) for 12-word spans, ~9% of a window. */
export const DEFAULT_OVERLAP_WORDS = 32;

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
