/**
 * Engine defaults that the configuration schema also needs. A contract at the bottom: it
 * imports nothing, so loading the config does not load the tokenizer or ONNX Runtime.
 */
import type { DecodeOptions } from './types.js';

/** Default decoding, as in the reference's `predict_entities`. */
export const DEFAULT_DECODE: Readonly<DecodeOptions> = Object.freeze({ threshold: 0.5, flatNer: true, multiLabel: false });

/** Default words shared by neighbouring windows: ≥ 2·(max_width − 1) for 12-word spans, ~9% of a window. */
export const DEFAULT_OVERLAP_WORDS = 32;

/** Smallest text budget a window may have after the prompt. */
export const MIN_TEXT_TOKENS = 32;
