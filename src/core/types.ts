/** Shared types of the GLiNER engine. Offsets are UTF-16 code units, end exclusive. */

/** One entity mention in a text. `text === source.slice(start, end)` always holds. */
export interface Entity {
  start: number;
  end: number;
  text: string;
  label: string;
  score: number;
}

/** Decoding rules, identical to the reference `gliner` package. */
export interface DecodeOptions {
  /** Keep spans whose sigmoid score is strictly greater than this. @defaultValue 0.5 */
  threshold: number;
  /** Flat NER: no two kept spans intersect. `false` allows fully nested spans. @defaultValue true */
  flatNer: boolean;
  /** Allow the same (start, end) with several labels. @defaultValue false */
  multiLabel: boolean;
}

/** How long texts are cut into windows. */
export interface WindowOptions {
  /** Words per window; capped by the model's `max_len`. @defaultValue the model's max_len */
  maxWords?: number;
  /** Words shared by consecutive windows; must be ≥ 2·(the model's max_width − 1) and < maxWords / 2. @defaultValue 32 */
  overlapWords: number;
  /** Encoder budget for [CLS] + prompt + text sub-tokens + [SEP] (the service's `WINDOW_MAX_TOKENS`). @defaultValue 512 */
  windowMaxTokens: number;
  /** @deprecated the 0.1.0 name of `windowMaxTokens`, accepted for one release. */
  maxTokens?: number;
  /** End windows after a sentence end where one lies in the window's last fifth. @defaultValue true */
  cutAtSentences: boolean;
}

/** Everything a caller of `predict` can set. */
export interface PredictOptions extends DecodeOptions {
  labels: readonly string[];
  window?: Partial<WindowOptions>;
  /** Merge touching same-label entities (NuNER Zero model card rule). @defaultValue false */
  mergeAdjacent?: boolean;
}

/** Result for one text. */
export interface TextResult {
  entities: Entity[];
  /** Number of windows the text was cut into (1 for texts that fit, 0 for empty text). */
  windows: number;
  /** Number of words (reference word splitting) in the text. */
  words: number;
}

/** What the engine knows about the loaded model (reported in `enrichment`). */
export interface ModelInfo {
  /** Folder name or configured display name. */
  name: string;
  /** sha256 of the ONNX file that was loaded. */
  sha256: string;
  /** ONNX file inside the folder, e.g. `onnx/model_int8.onnx`. */
  file: string;
  /** GLiNER's span or token head; `generative` for the GNER backend (a seq2seq model writes the tags). */
  spanMode: 'span' | 'token' | 'generative';
  /** Which backend runs the model (`MODEL_BACKEND`); absent means `gliner`. Reported as `enrichment.backend`. */
  backend?: 'gliner' | 'gner';
  /**
   * A native relation model (gliner `UniEncoderSpanRelexGLiNER`): its `relations_layer`. Such a
   * model finds entities and relations in one pass (`ExtractionRequest.relations`); other models
   * are asked relations through the multitask prompt. Absent for entity-only models.
   */
  relationsLayer?: string;
  /** Words per window (GLiNER's `max_len`); 0 for GNER, which reads one sentence (group) per prompt. */
  maxLen: number;
  /** Longest span in words (GLiNER's `max_width`); 0 for GNER. */
  maxWidth: number;
  executionProvider: string;
}
