/**
 * The multitask GLiNER way to relations on a plain span model, as the reference package's
 * `gliner/multitask/relation_extraction.py` (`GLiNERRelationExtractor`) defines it:
 *
 *   pass 1: entities of the text;
 *   pass 2: the same model on `RELATION_TASK_PROMPT + " \n " + text`, with one label
 *           `"<entity text> <> <relation>"` per relation and distinct entity text; every span
 *           found is a relation's tail, its label names the head (by its text) and the relation.
 *
 * Pure: labels and their parsing. Running the passes is `relation-extractor.ts`.
 */
import { RELATION_LABEL_SEPARATOR as SEPARATOR } from '../core/relations.js';

export { relationNameProblem } from '../core/relations.js';

/** The reference's prompt, placed before every window's words in pass 2. */
export { RELATION_TASK_PROMPT } from '../core/relations.js';

/**
 * What the reference puts between the prompt and the text. It is whitespace, so the words the
 * model reads are the prompt's words followed by the text's (GLiNER's word splitter drops it).
 */
export const RELATION_PROMPT_SEPARATOR = ' \n ';

/**
 * Pass 2's labels: relation-major, then each distinct entity text in the order first seen, as
 * the reference's `prepare_source_relation` (whose inner order is a Python `set`'s, which
 * changes with the process's hash seed; the parity goldens pass the reference this same order).
 */
export function relationLabels(entityTexts: Iterable<string>, relations: readonly string[]): string[] {
  const distinct = [...new Set(entityTexts)];
  return relations.flatMap((relation) => distinct.map((text) => `${text} ${SEPARATOR} ${relation}`));
}

/**
 * A pass-2 label back into the head's text and the relation. The reference splits on `<>` and
 * fails on a label with two; relation names may not contain it (refused in the config), so the
 * last `<>` is the separator and a head text containing `<>` still parses.
 */
export function parseRelationLabel(label: string): { head: string; relation: string } {
  const at = label.lastIndexOf(SEPARATOR);
  if (at < 0) throw new Error(`not a relation label: ${JSON.stringify(label)}`);
  return { head: label.slice(0, at).trim(), relation: label.slice(at + SEPARATOR.length).trim() };
}
