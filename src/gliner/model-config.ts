import { z } from 'zod';
import { EnricherError } from '../errors.js';

/**
 * The fields of `gliner_config.json` that inference depends on. Everything else
 * (training settings, backbone details baked into the graph) passes through untouched.
 * Defaults are the reference's `GLiNERConfig` defaults, used when legacy configs omit a key.
 */
const GlinerConfigSchema = z
  .object({
    span_mode: z.string().default('markerV0'),
    max_width: z.number().int().positive().default(12),
    max_len: z.number().int().positive().default(384),
    ent_token: z.string().min(1).default('<<ENT>>'),
    sep_token: z.string().min(1).default('<<SEP>>'),
    class_token_index: z.number().int().nullish(),
    words_splitter_type: z.string().default('whitespace'),
    vocab_size: z.number().int().nullish(),
    model_name: z.string().nullish(),
    labels_encoder: z.unknown().optional(),
    labels_decoder: z.unknown().optional(),
    relations_layer: z.unknown().optional(),
    rel_token: z.string().min(1).default('<<REL>>'),
    rel_token_index: z.number().int().nullish(),
    onnx_entity_threshold: z.number().min(0).max(1).nullish(),
    onnx_max_candidates: z.number().int().min(1).nullish(),
    precomputed_prompts_mode: z.boolean().nullish(),
  })
  .passthrough();

/** The settings the engine uses, read from `gliner_config.json`. */
export interface GlinerSettings {
  spanMode: 'span' | 'token';
  /** The raw `span_mode` value (e.g. `markerV0`, `token_level`). */
  spanModeName: string;
  maxWidth: number;
  maxLen: number;
  entToken: string;
  sepToken: string;
  /** Absent in legacy configs; then the tokenizer's id for `entToken` is used. */
  classTokenIndex: number | undefined;
  vocabSize: number | undefined;
  modelName: string | undefined;
  /** Present for native relation models (`relations_layer` set; gliner's `UniEncoderSpanRelexGLiNER`). */
  relex: RelexSettings | undefined;
}

/** What a native relation model adds: its relation prompt token and the graph's candidate threshold. */
export interface RelexSettings {
  /** `relations_layer` as configured (`"none"`: every entity pair; else an adjacency layer inside the graph). */
  relationsLayer: string;
  relToken: string;
  /** Absent in configs that leave it unset (-1); then the tokenizer's id for `relToken` is used. */
  relTokenIndex: number | undefined;
  /**
   * The entity threshold the ONNX graph picks relation candidates with: spans whose best label
   * probability is above it, in (start, width) order, are what `rel_idx` indexes. gliner's export
   * wrapper passes no threshold, so its forward's default 0.5 is baked in; the project's export
   * writes `onnx_entity_threshold`.
   */
  graphEntityThreshold: number;
  /**
   * The graph's memory bound (`onnx_max_candidates`, written by the project's export): at most
   * this many candidates per text, those with the highest best-label logit (ties at the last
   * place kept). Infinity for graphs without one (other exports pair every candidate).
   */
  graphMaxCandidates: number;
}

/** Parses and validates `gliner_config.json` content; rejects variants with other ONNX I/O. */
export function parseGlinerConfig(raw: unknown, source: string): GlinerSettings {
  const parsed = GlinerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EnricherError('MODEL_CONFIG_INVALID', `${source}: ${issues}`);
  }
  const c = parsed.data;
  const unsupported = (what: string): never => {
    throw new EnricherError('MODEL_UNSUPPORTED', `${source}: ${what}; this engine runs uni-encoder span and token GLiNER models and span relation models`);
  };
  if (c.labels_encoder != null) unsupported(`bi-encoder model (labels_encoder=${JSON.stringify(c.labels_encoder)})`);
  if (c.labels_decoder != null) unsupported(`decoder model (labels_decoder=${JSON.stringify(c.labels_decoder)})`);
  if (c.relations_layer != null) {
    if (typeof c.relations_layer !== 'string') unsupported(`relations_layer ${JSON.stringify(c.relations_layer)} (expected a layer name)`);
    if (c.span_mode === 'token_level') unsupported('token-level relation model (UniEncoderTokenRelexGLiNER)');
  }
  if (c.precomputed_prompts_mode === true) unsupported('precomputed_prompts_mode=true');
  if (c.words_splitter_type !== 'whitespace') {
    unsupported(`words_splitter_type "${c.words_splitter_type}" (only "whitespace" is implemented)`);
  }
  return {
    spanMode: c.span_mode === 'token_level' ? 'token' : 'span',
    spanModeName: c.span_mode,
    maxWidth: c.max_width,
    maxLen: c.max_len,
    entToken: c.ent_token,
    sepToken: c.sep_token,
    // -1 is GLiNERConfig's "unset" default.
    classTokenIndex: c.class_token_index != null && c.class_token_index >= 0 ? c.class_token_index : undefined,
    vocabSize: c.vocab_size ?? undefined,
    modelName: c.model_name ?? undefined,
    relex:
      typeof c.relations_layer === 'string'
        ? {
            relationsLayer: c.relations_layer,
            relToken: c.rel_token,
            relTokenIndex: c.rel_token_index != null && c.rel_token_index >= 0 ? c.rel_token_index : undefined,
            graphEntityThreshold: c.onnx_entity_threshold ?? 0.5,
            graphMaxCandidates: c.onnx_max_candidates ?? Infinity,
          }
        : undefined,
  };
}
