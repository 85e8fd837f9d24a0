import { EnricherError } from '../errors.js';
import { parseGlinerConfig, type GlinerSettings } from './model-config.js';
import { readJsonFile, resolveModelFiles, type ModelFiles } from './model-dir.js';
import { Preprocessor } from './preprocess.js';
import { WordTokenizer } from './tokenizer.js';

/**
 * The tokenizer side of a model folder, without ONNX Runtime: what the main thread needs to
 * check settings against the model (windows, labels) before the service commits to anything.
 */

/** How to read the tokenizer side. */
export interface ModelTextOptions {
  /** ONNX variant (`fp32`, `int8`, `fp16`, `quantized`, …) or file name. @defaultValue 'fp32' */
  variant?: string;
  /** Words memoised by the tokenizer. @defaultValue 200000 */
  tokenCacheSize?: number;
}

/** The tokenizer side of a model folder: enough to plan windows and check settings, no session. */
export interface ModelText {
  files: ModelFiles;
  settings: GlinerSettings;
  preprocessor: Preprocessor;
  /**
   * The encoder's position limit (`encoder_config.max_position_embeddings`) when the config
   * carries it; the preprocessor's default budget is this, or 512 when it is unknown.
   */
  encoderPositions: number | undefined;
}

/** Encoder budget when the config does not carry the backbone's position limit. */
const DEFAULT_MAX_TOKENS = 512;

/**
 * Reads and cross-checks the tokenizer side of a model folder: gliner_config.json and the
 * tokenizer, whose `<<ENT>>` id must equal `class_token_index`. No ONNX session is created,
 * so this is cheap enough to run on the main thread before start-up commits to anything.
 */
export function loadModelText(dir: string, options: ModelTextOptions = {}): ModelText {
  const files = resolveModelFiles(dir, options.variant ?? 'fp32');
  const rawConfig = readJsonFile(files.glinerConfig);
  const settings = parseGlinerConfig(rawConfig, files.glinerConfig);
  const tokenizer = WordTokenizer.fromFiles(files.tokenizerJson, files.tokenizerConfig, options.tokenCacheSize);
  const entId = tokenizer.tokenId(settings.entToken);
  if (entId === undefined) {
    throw new EnricherError('TOKENIZER_MISMATCH', `${files.tokenizerJson} has no token ${settings.entToken} (ent_token of gliner_config.json)`);
  }
  if (settings.classTokenIndex !== undefined && settings.classTokenIndex !== entId) {
    throw new EnricherError(
      'TOKENIZER_MISMATCH',
      `class_token_index ${settings.classTokenIndex} in ${files.glinerConfig} differs from the tokenizer's id ${entId} ` +
        `for ${settings.entToken}: the model would see no label prompts`,
    );
  }
  if (settings.vocabSize !== undefined && entId >= settings.vocabSize) {
    throw new EnricherError('TOKENIZER_MISMATCH', `${settings.entToken} has id ${entId} ≥ vocab_size ${settings.vocabSize}`);
  }
  const relId = settings.relex ? relationTokenId(tokenizer, settings, files.glinerConfig, files.tokenizerJson) : undefined;
  const encoderPositions = encoderMaxTokens(rawConfig);
  const preprocessor = new Preprocessor(tokenizer, settings, entId, encoderPositions ?? DEFAULT_MAX_TOKENS, relId);
  return { files, settings, preprocessor, encoderPositions };
}

/** A relation model's `<<REL>>` id: in the tokenizer, and equal to `rel_token_index` when the config sets it. */
function relationTokenId(tokenizer: WordTokenizer, settings: GlinerSettings, configPath: string, tokenizerPath: string): number {
  const { relToken, relTokenIndex } = settings.relex!;
  const relId = tokenizer.tokenId(relToken);
  if (relId === undefined) {
    throw new EnricherError('TOKENIZER_MISMATCH', `${tokenizerPath} has no token ${relToken} (rel_token of a relation model's gliner_config.json)`);
  }
  if (relTokenIndex !== undefined && relTokenIndex !== relId) {
    throw new EnricherError(
      'TOKENIZER_MISMATCH',
      `rel_token_index ${relTokenIndex} in ${configPath} differs from the tokenizer's id ${relId} for ${relToken}: the model would see no relation prompts`,
    );
  }
  return relId;
}

/** The backbone's position limit, when gliner_config.json carries the encoder config. */
function encoderMaxTokens(raw: unknown): number | undefined {
  const enc = (raw as { encoder_config?: { max_position_embeddings?: unknown } }).encoder_config;
  const v = enc?.max_position_embeddings;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}
