/**
 * Relations of an article: which names it asks (its own or the configured ones), and either the
 * second pass over each field's entities (multitask prompt, any span model) or what a native
 * relation model found in the entity pass. Shared by the service's processor and `extract`, so both
 * produce the same `relations`.
 */
import type { Article } from '../article.js';
import type { Config } from '../config.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities, FieldText } from '../core/extraction.js';
import type { Relation } from '../core/relations.js';
import { EnricherError } from '../errors.js';
import { windowOptions } from '../inference/options.js';
import { RELATION_PROMPT_WORDS, RelationExtractor } from './relation-extractor.js';

/** Relation names for an article: its own when allowed and given, else the configured ones. */
export function relationNamesFor(article: Article, config: Readonly<Config>): readonly string[] {
  return config.inference.allowMessageLabels && article.relations !== undefined ? article.relations : config.inference.relations;
}

/**
 * Relations need a GLiNER model (a native relation model or the multitask prompt on a span
 * model). The configured RELATIONS are refused at start-up for another backend (GNER), so here
 * the names are a message's own: the article is refused before any model pass, as a message that
 * asks what the service cannot give (MESSAGE_SCHEMA, dead-lettered).
 */
export function assertRelationsSupported(extractor: EntityExtractor, names: readonly string[]): void {
  if (names.length > 0 && extractor.model.backend !== undefined && extractor.model.backend !== 'gliner') {
    throw new EnricherError('MESSAGE_SCHEMA', `the message asks relations, which need a GLiNER model; MODEL_BACKEND=${extractor.model.backend} finds entities only`);
  }
}

/**
 * What the entity pass asks of a native relation model (`ModelInfo.relationsLayer` set): the
 * names and threshold, so entities and relations come from one pass. Undefined for other models
 * (their relations take the multitask second pass) or when no names are asked.
 */
export function nativeRelationRequest(extractor: EntityExtractor, names: readonly string[], config: Readonly<Config>): ExtractionRequest['relations'] {
  assertRelationsSupported(extractor, names);
  return extractor.model.relationsLayer !== undefined && names.length > 0 ? { names, threshold: config.inference.relationThreshold } : undefined;
}

/**
 * The relations among each field's entities; nothing (and no model pass) when no names are
 * asked or a field has no entities. A native relation model found them in the entity pass
 * (`nativeRelationRequest`): they are read from its results.
 */
export async function articleRelations(
  extractor: EntityExtractor,
  fields: readonly FieldText[],
  results: readonly FieldEntities[],
  names: readonly string[],
  config: Readonly<Config>,
  signal?: AbortSignal,
): Promise<Relation[]> {
  if (names.length === 0) return [];
  assertRelationsSupported(extractor, names);
  if (extractor.model.relationsLayer !== undefined) return results.flatMap((r) => r.relations ?? []);
  const rex = new RelationExtractor(extractor, {
    relations: names,
    threshold: config.inference.relationThreshold,
    labelsPerPass: config.inference.relationLabelsPerPass,
    chunkWords: Math.min(config.inference.windowWords ?? Infinity, extractor.model.maxLen - RELATION_PROMPT_WORDS),
    overlapWords: config.inference.windowOverlapWords,
    // The pool's windows keep the configured encoder budget and overlap; their size is the chunk's.
    window: (({ maxWords: _size, ...rest }) => rest)(windowOptions(config)),
  });
  const perField = await Promise.all(fields.map((f, i) => rex.extract(f, results[i]?.entities ?? [], signal)));
  return perField.flat();
}
