/**
 * Relations between entities: the output contract (DESIGN.md §2) and the one rule on relation
 * names. No imports: the config, the article contract and the engine side all read this.
 */

/** One end of a relation: an entity's text and UTF-16 offsets in its field. */
export interface RelationEnd {
  text: string;
  /** The label of the pass-1 entity at this span; null for a tail no pass-1 entity matches exactly. */
  label: string | null;
  start: number;
  end: number;
}

/** `head --relation--> tail`, both in `field`. */
export interface Relation {
  head: RelationEnd;
  relation: string;
  tail: RelationEnd;
  score: number;
  field: string;
}

/**
 * The multitask GLiNER relation prompt (the reference's `GLiNERRelationExtractor.prompt`), read
 * before every window's words in the relation pass. Here because the start-up check budgets it.
 */
export const RELATION_TASK_PROMPT = 'Extract relationships between entities from the text: ';

/** What separates a relation label's head from its relation (`"Microsoft <> acquired"`). */
export const RELATION_LABEL_SEPARATOR = '<>';

/** Why a relation name cannot be asked (blank, or carrying the separator); undefined when it can. */
export function relationNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'is blank';
  if (name.includes(RELATION_LABEL_SEPARATOR)) return `contains "${RELATION_LABEL_SEPARATOR}", which separates a relation label's head from its relation`;
  return undefined;
}
