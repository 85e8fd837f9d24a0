import { EnricherError } from '../errors.js';
import type { GlinerSettings } from './model-config.js';
import type { WordTokenizer } from './tokenizer.js';

/**
 * The label prompt `<<ENT>> label1 <<ENT>> label2 … <<SEP>>` as sub-token ids; a relation model's
 * continues `<<REL>> relation1 … <<SEP>>` (gliner's `RelationExtractionSpanProcessor.prepare_inputs`,
 * which writes the second `<<SEP>>` even when no relation is asked).
 */
export interface Prompt {
  /** De-duplicated labels, in first-seen order: class i+1 of the model is labels[i]. */
  readonly labels: readonly string[];
  /** De-duplicated relation names (relation models), in first-seen order: relation class i is relations[i]. */
  readonly relations: readonly string[];
  /** Prompt ids without [CLS]. */
  readonly ids: Int32Array;
}

/**
 * Builds the prompt for a label list. Labels are de-duplicated preserving order (as the
 * reference does) and are not lower-cased. Each label is one pre-split "word", so
 * "sports team" is one word of two sub-tokens.
 */
export function buildPrompt(
  labels: readonly string[],
  tokenizer: WordTokenizer,
  settings: GlinerSettings,
  entId: number,
  relations: readonly string[] = [],
  relId?: number,
): Prompt {
  const unique = [...new Set(labels)];
  if (unique.length === 0) throw new EnricherError('LABELS_INVALID', 'the label list is empty: give at least one entity label');
  const sepId = tokenizer.tokenId(settings.sepToken);
  if (sepId === undefined) {
    throw new EnricherError('TOKENIZER_MISMATCH', `sep token ${settings.sepToken} is not in the tokenizer vocabulary`);
  }
  const ids: number[] = [];
  const promptTokens = [settings.entToken, settings.sepToken, ...(settings.relex ? [settings.relex.relToken] : [])];
  const wordIds = (what: string, name: string): Int32Array => {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new EnricherError('LABELS_INVALID', `${what} ${JSON.stringify(name)} is blank`);
    }
    for (const token of promptTokens) {
      if (name.includes(token)) {
        throw new EnricherError('LABELS_INVALID', `${what} ${JSON.stringify(name)} contains the prompt token ${token}`);
      }
    }
    const pieces = tokenizer.encodeWord(name);
    if (pieces.length === 0) {
      throw new EnricherError('LABELS_INVALID', `${what} ${JSON.stringify(name)} has no sub-tokens after normalisation`);
    }
    return pieces;
  };
  for (const label of unique) ids.push(entId, ...wordIds('label', label));
  ids.push(sepId);
  const uniqueRelations = [...new Set(relations)];
  if (settings.relex) {
    if (relId === undefined) throw new EnricherError('TOKENIZER_MISMATCH', `rel token ${settings.relex.relToken} is not in the tokenizer vocabulary`);
    for (const relation of uniqueRelations) ids.push(relId, ...wordIds('relation', relation));
    ids.push(sepId);
  } else if (uniqueRelations.length > 0) {
    throw new EnricherError('OPTIONS_INVALID', 'this model has no relation head (relations_layer is null): ask relations through the multitask prompt path');
  }
  return { labels: unique, relations: uniqueRelations, ids: Int32Array.from(ids) };
}
