import { EnricherError } from '../errors.js';
import type { GlinerSettings } from './model-config.js';
import type { WordTokenizer } from './tokenizer.js';

/** The label prompt `<<ENT>> label1 <<ENT>> label2 … <<SEP>>` as sub-token ids. */
export interface Prompt {
  /** De-duplicated labels, in first-seen order: class i+1 of the model is labels[i]. */
  readonly labels: readonly string[];
  /** Prompt ids without [CLS]. */
  readonly ids: Int32Array;
}

/**
 * Builds the prompt for a label list. Labels are de-duplicated preserving order (as the
 * reference does) and are not lower-cased. Each label is one pre-split "word", so
 * "sports team" is one word of two sub-tokens.
 */
export function buildPrompt(labels: readonly string[], tokenizer: WordTokenizer, settings: GlinerSettings, entId: number): Prompt {
  const unique = [...new Set(labels)];
  if (unique.length === 0) throw new EnricherError('LABELS_INVALID', 'the label list is empty: give at least one entity label');
  const sepId = tokenizer.tokenId(settings.sepToken);
  if (sepId === undefined) {
    throw new EnricherError('TOKENIZER_MISMATCH', `sep token ${settings.sepToken} is not in the tokenizer vocabulary`);
  }
  const ids: number[] = [];
  for (const label of unique) {
    if (typeof label !== 'string' || label.trim() === '') {
      throw new EnricherError('LABELS_INVALID', `label ${JSON.stringify(label)} is blank`);
    }
    for (const token of [settings.entToken, settings.sepToken]) {
      if (label.includes(token)) {
        throw new EnricherError('LABELS_INVALID', `label ${JSON.stringify(label)} contains the prompt token ${token}`);
      }
    }
    const labelIds = tokenizer.encodeWord(label);
    if (labelIds.length === 0) {
      throw new EnricherError('LABELS_INVALID', `label ${JSON.stringify(label)} has no sub-tokens after normalisation`);
    }
    ids.push(entId, ...labelIds);
  }
  ids.push(sepId);
  return { labels: unique, ids: Int32Array.from(ids) };
}
