import type { Article } from './article.js';
import type { DecodeOptions, ModelInfo } from './core/types.js';
import type { FieldEntities } from './core/extraction.js';
import type { Relation } from './core/relations.js';

/** One mention, with the field it was found in (DESIGN.md §2). */
export interface EntityMention {
  text: string;
  label: string;
  start: number;
  end: number;
  score: number;
  field: string;
}

/** Mentions grouped by normalised text and label. */
export interface EntitySummary {
  /** Surface form of the first mention. */
  text: string;
  label: string;
  count: number;
  max_score: number;
  /** Start of the first mention, in `first_field`. */
  first_start: number;
  first_field: string;
}

export interface EnrichmentInfo {
  model: string;
  /** Which backend ran the model: `gliner` or `gner` (MODEL_BACKEND). */
  backend: 'gliner' | 'gner';
  model_sha256: string;
  model_file: string;
  labels: string[];
  threshold: number;
  flat_ner: boolean;
  multi_label: boolean;
  /** Relation names asked (empty: no relation pass ran). */
  relations: string[];
  relation_threshold: number;
  /** Windows over all fields. */
  windows: number;
  windows_by_field: Record<string, number>;
  /** Always false: long texts are windowed, never cut. */
  truncated: false;
  duration_ms: number;
  processed_at: string;
  enricher_version: string;
}

/** The output topic value and the Elasticsearch `_source`. */
export type EnrichedArticle = Record<string, unknown> & {
  id: string;
  entities: EntityMention[];
  entity_summary: EntitySummary[];
  entities_by_label: Record<string, string[]>;
  /** head --relation--> tail between entities of one field, sorted by (field, tail start). */
  relations: Relation[];
  enrichment: EnrichmentInfo;
};

/** Grouping key of a mention's text: NFKC, case-folded, whitespace collapsed. */
export function normalizeEntityText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * Key of a label under `entities_by_label`: lower case, runs of other characters as `_`
 * ("Sports Team" → `sports_team`), so labels never create nested object paths in
 * Elasticsearch.
 */
export function labelKey(label: string): string {
  return label.trim().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_').replace(/^_+|_+$/g, '') || '_';
}

export interface EnrichmentMeta {
  model: ModelInfo;
  labels: readonly string[];
  decode: DecodeOptions;
  /** Relation names asked (empty: no relation pass), their threshold, and what was found. */
  relations: { names: readonly string[]; threshold: number; found: readonly Relation[] };
  durationMs: number;
  processedAt: Date;
  version: string;
}

/** Builds the enriched article: input keys kept, entities sorted by (field, start). */
export function buildEnrichedArticle(article: Article, results: readonly FieldEntities[], meta: EnrichmentMeta): EnrichedArticle {
  const entities: EntityMention[] = [];
  const windowsByField: Record<string, number> = {};
  for (const r of results) {
    windowsByField[r.field] = r.windows;
    for (const e of r.entities) entities.push({ text: e.text, label: e.label, start: e.start, end: e.end, score: e.score, field: r.field });
  }
  entities.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : a.start - b.start || a.end - b.end));

  const summary = new Map<string, EntitySummary>();
  const byLabel: Record<string, string[]> = {};
  const seenByLabel = new Map<string, Set<string>>();
  for (const e of entities) {
    const norm = normalizeEntityText(e.text);
    const key = `${e.label}\u0000${norm}`;
    const s = summary.get(key);
    if (s === undefined) {
      summary.set(key, { text: e.text, label: e.label, count: 1, max_score: e.score, first_start: e.start, first_field: e.field });
    } else {
      s.count += 1;
      s.max_score = Math.max(s.max_score, e.score);
    }
    const lk = labelKey(e.label);
    let seen = seenByLabel.get(lk);
    if (seen === undefined) {
      seen = new Set();
      seenByLabel.set(lk, seen);
      byLabel[lk] = [];
    }
    if (!seen.has(norm)) {
      seen.add(norm);
      byLabel[lk]!.push(e.text);
    }
  }

  return {
    ...article.raw,
    id: article.id,
    entities,
    entity_summary: [...summary.values()].sort((a, b) => b.count - a.count || b.max_score - a.max_score),
    entities_by_label: byLabel,
    relations: [...meta.relations.found].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : a.tail.start - b.tail.start || a.head.start - b.head.start)),
    enrichment: {
      model: meta.model.name,
      backend: meta.model.backend ?? 'gliner',
      model_sha256: meta.model.sha256,
      model_file: meta.model.file,
      labels: [...meta.labels],
      threshold: meta.decode.threshold,
      flat_ner: meta.decode.flatNer,
      multi_label: meta.decode.multiLabel,
      relations: [...meta.relations.names],
      relation_threshold: meta.relations.threshold,
      windows: results.reduce((a, r) => a + r.windows, 0),
      windows_by_field: windowsByField,
      truncated: false,
      duration_ms: Math.round(meta.durationMs * 1000) / 1000,
      processed_at: meta.processedAt.toISOString(),
      enricher_version: meta.version,
    },
  };
}
