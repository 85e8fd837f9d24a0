import { Tokenizer } from '@huggingface/tokenizers';
import type { Config } from '../config.js';
import { EnricherError, isEnricherError } from '../errors.js';
import { readJsonFile } from '../gliner/model-dir.js';
import type { GnerSettings } from './extract-fields.js';
import { resolveGnerFiles, type GnerFiles } from './model.js';
import { gnerLabels, gnerPromptHead } from './prompt.js';

/** The GNER settings of the configuration (`GNER_*`). */
export function gnerSettings(config: Readonly<Config>): GnerSettings {
  const g = config.gner;
  return { batchSize: g.batchSize, maxSourceTokens: g.maxSourceTokens, maxNewTokens: g.maxNewTokens, groupWords: g.groupWords, ...(g.dataset ? { dataset: g.dataset } : {}) };
}

/** What the GNER start-up check resolved (logged). */
export interface GnerChecked {
  files: GnerFiles;
  /** Sub-tokens of the configured labels' prompt head, and what is left for a sentence. */
  promptTokens: number;
  sentenceTokens: number;
}

/**
 * The start-up check for MODEL_BACKEND=gner, on the calling thread without ONNX Runtime (the
 * tokenizer only): the folder is a complete T5 export for the variant, the configured labels
 * can be written in GNER's format, and their prompt leaves room for a sentence in
 * GNER_MAX_SOURCE_TOKENS. One CONFIG_INVALID listing every problem.
 */
export function preflightGner(config: Readonly<Config>): GnerChecked {
  const dir = config.model.dir;
  if (dir === undefined) throw new EnricherError('CONFIG_INVALID', 'model.dir (MODEL_DIR, --model) is required: the model folder to run');
  const files = resolveGnerFiles(dir, config.model.variant);
  const problems: string[] = [];
  let labels: string[] = [];
  try {
    labels = gnerLabels(config.inference.labels);
  } catch (err) {
    if (!isEnricherError(err, 'LABELS_INVALID')) throw err;
    problems.push(`LABELS (inference.labels, --labels): ${err.message}`);
  }
  let promptTokens = 0;
  let sentenceTokens = 0;
  if (labels.length > 0) {
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(readJsonFile(`${files.dir}/tokenizer.json`) as object, readJsonFile(`${files.dir}/tokenizer_config.json`) as object);
    } catch (err) {
      throw new EnricherError('MODEL_CONFIG_INVALID', `cannot build the GNER tokenizer of ${files.dir}: ${(err as Error).message}`, { cause: err });
    }
    const unreadable = labels.filter((l) => tokenizer.decode(tokenizer.encode(l).ids, { skip_special_tokens: true }) !== l);
    if (unreadable.length > 0) {
      problems.push(`LABELS ${JSON.stringify(unreadable)} do not survive the model's tokenizer (characters outside its vocabulary or changed by its normalizer), so its tags could never name them`);
    }
    promptTokens = tokenizer.encode(gnerPromptHead(labels, config.gner.dataset)).ids.length - 1;
    sentenceTokens = config.gner.maxSourceTokens - promptTokens - 1;
    if (sentenceTokens < 8) {
      problems.push(
        `the GNER prompt for the ${labels.length} labels of LABELS takes ${promptTokens} of GNER_MAX_SOURCE_TOKENS ${config.gner.maxSourceTokens} sub-tokens, ` +
          'leaving no room for a sentence: use fewer or shorter labels or raise GNER_MAX_SOURCE_TOKENS',
      );
    }
  }
  if (problems.length > 0) throw new EnricherError('CONFIG_INVALID', `invalid configuration for the GNER model ${files.dir}: ${problems.join('; ')}`);
  return { files, promptTokens, sentenceTokens };
}
