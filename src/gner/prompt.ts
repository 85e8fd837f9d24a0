import { EnricherError } from '../errors.js';

/**
 * GNER's prompt, as its dataset code builds it (yyDing1/GNER `src/gner_dataset.py` with
 * `configs/instruction_configs/instruction.json`): the instruction, the tag list, optionally the
 * dataset name, then the sentence's words joined by spaces. The model answers with every word
 * followed by its BIO tag, `word(B-label) word(I-label) word(O) …` (`parse.ts`).
 */

/** The instruction GNER models were trained with (instruction.json, verbatim). */
export const GNER_INSTRUCTION =
  'Please analyze the sentence provided, identifying the type of entity for each word on a token-by-token basis.\n' +
  'Output format is: word_1(label_1), word_2(label_2), ...\n' +
  "We'll use the BIO-format to label the entities, where:\n" +
  '1. B- (Begin) indicates the start of a named entity.\n' +
  '2. I- (Inside) is used for words within a named entity but are not the first word.\n' +
  '3. O (Outside) denotes words that are not part of a named entity.\n';

/** The prompt before the sentence's words: instruction, tags, dataset line. */
export function gnerPromptHead(labels: readonly string[], dataset?: string): string {
  const tags = `\nUse the specific entity tags: ${labels.join(', ')} and O.\n`;
  return GNER_INSTRUCTION + tags + (dataset !== undefined && dataset !== '' ? `Dataset: ${dataset}.\n` : '') + 'Sentence: ';
}

/** The whole prompt for one sentence (or sentence group) of words. */
export function gnerPrompt(words: readonly string[], labels: readonly string[], dataset?: string): string {
  return gnerPromptHead(labels, dataset) + words.join(' ');
}

/**
 * The labels of a GNER request, de-duplicated in order. A label the output format cannot carry
 * is refused: brackets end a tag, a comma splits the tag list, a line break ends the line.
 */
export function gnerLabels(labels: readonly string[]): string[] {
  const unique = [...new Set(labels.map((l) => (typeof l === 'string' ? l.trim() : l)))];
  if (unique.length === 0) throw new EnricherError('LABELS_INVALID', 'the label list is empty: give at least one entity label');
  for (const label of unique) {
    if (typeof label !== 'string' || label === '') throw new EnricherError('LABELS_INVALID', `label ${JSON.stringify(label)} is blank`);
    if (/[(),\n\r]/.test(label)) {
      throw new EnricherError('LABELS_INVALID', `label ${JSON.stringify(label)} contains a bracket, comma or line break, which GNER's output format cannot carry`);
    }
    if (label === 'O') throw new EnricherError('LABELS_INVALID', 'label "O" is GNER\'s outside tag');
  }
  return unique;
}
