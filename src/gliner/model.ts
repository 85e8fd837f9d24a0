import { EnricherError } from '../errors.js';
import { parseGlinerConfig, type GlinerSettings } from './model-config.js';
import { readJsonFile, resolveModelFiles, sha256File, type ModelFiles } from './model-dir.js';
import { Preprocessor } from './preprocess.js';
import { BatchRunner } from './runner.js';
import { OnnxSession, type SessionSettings } from './session.js';
import { WordTokenizer } from './tokenizer.js';
import type { ModelInfo } from './types.js';

/** How to load a model folder. */
export interface LoadOptions extends SessionSettings {
  /** ONNX variant (`fp32`, `int8`, `fp16`, `quantized`, …) or file name. @defaultValue 'fp32' */
  variant?: string;
  /** Name reported in `enrichment.model`. @defaultValue the folder's name */
  name?: string;
  /** sha256 of the ONNX file when already known (pool workers get it from the main thread). */
  sha256?: string;
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

/** A loaded model: the tokenizer side and the ONNX side, plus what to report about it. */
export interface LoadedModel {
  info: ModelInfo;
  files: ModelFiles;
  settings: GlinerSettings;
  preprocessor: Preprocessor;
  runner: BatchRunner;
  release(): Promise<void>;
}

/** Encoder budget when the config does not carry the backbone's position limit. */
const DEFAULT_MAX_TOKENS = 512;

/**
 * Reads and cross-checks the tokenizer side of a model folder: gliner_config.json and the
 * tokenizer, whose `<<ENT>>` id must equal `class_token_index`. No ONNX session is created,
 * so this is cheap enough to run on the main thread before start-up commits to anything.
 */
export function loadModelText(dir: string, options: Pick<LoadOptions, 'variant' | 'tokenCacheSize'> = {}): ModelText {
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
  const encoderPositions = encoderMaxTokens(rawConfig);
  const preprocessor = new Preprocessor(tokenizer, settings, entId, encoderPositions ?? DEFAULT_MAX_TOKENS);
  return { files, settings, preprocessor, encoderPositions };
}

/**
 * Loads and cross-checks a model folder: config, tokenizer (its `<<ENT>>` id must equal
 * `class_token_index`), ONNX session; then runs a probe batch so a graph that disagrees
 * with its config fails at start-up rather than on traffic.
 */
export async function loadModel(dir: string, options: LoadOptions): Promise<LoadedModel> {
  const { files, settings, preprocessor } = loadModelText(dir, options);
  const tokenizer = preprocessor.tokenizer;
  const session = await OnnxSession.create(files.onnx, options);
  try {
    const runner = new BatchRunner(session, settings, { clsId: tokenizer.clsId, sepId: tokenizer.sepId, padId: tokenizer.padId });
    const probePrompt = preprocessor.prompt(['person', 'location']);
    const probeText = preprocessor.prepareText('Ada Lovelace was born in London .', preprocessor.limits(probePrompt));
    await runner.probe(probePrompt, { ids: probeText.ids, counts: probeText.counts });
    const info: ModelInfo = {
      name: options.name ?? files.name,
      sha256: options.sha256 ?? (await sha256File(files.onnx)),
      file: files.onnxRelative,
      spanMode: settings.spanMode,
      maxLen: settings.maxLen,
      maxWidth: settings.maxWidth,
      executionProvider: session.executionProvider,
    };
    return { info, files, settings, preprocessor, runner, release: () => session.release() };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** The backbone's position limit, when gliner_config.json carries the encoder config. */
function encoderMaxTokens(raw: unknown): number | undefined {
  const enc = (raw as { encoder_config?: { max_position_embeddings?: unknown } }).encoder_config;
  const v = enc?.max_position_embeddings;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}
