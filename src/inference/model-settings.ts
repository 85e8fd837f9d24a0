import type { Config } from '../config.js';
import { EnricherError, isEnricherError } from '../errors.js';
import { loadModelText, type ModelText } from '../gliner/model-text.js';
import { DEFAULT_OVERLAP_WORDS, MIN_TEXT_TOKENS } from '../core/defaults.js';
import { RELATION_TASK_PROMPT } from '../core/relations.js';
import type { WindowLimitsResolved } from '../gliner/preprocess.js';
import { windowOptions } from './options.js';

/**
 * The settings that only mean something against a model — window words and overlap against
 * `max_len` and `max_width`, the sub-token budget against the encoder and the label prompt,
 * the configured labels against the tokenizer — checked once at start-up. The schema cannot
 * check them (it does not know the model), and per request they would fail every message
 * alike: a wrong setting is a CONFIG_INVALID at start-up, before the service opens its port
 * or joins its group and before `extract` reads a line. Labels a message brings itself are
 * still checked per message (LABELS_INVALID, dead-lettered).
 */

/** How each checked setting is named to the operator (variable, config key, flag). */
const NAMES = {
  windowWords: 'WINDOW_WORDS (inference.windowWords, --window-words)',
  windowOverlapWords: 'WINDOW_OVERLAP_WORDS (inference.windowOverlapWords, --window-overlap-words)',
  windowMaxTokens: 'WINDOW_MAX_TOKENS (inference.windowMaxTokens, --window-max-tokens)',
  labels: 'LABELS (inference.labels, --labels)',
  relations: 'RELATIONS (inference.relations, --relations)',
} as const;

/** What the checked settings resolve to for the configured labels (logged at start-up). */
export interface CheckedSettings extends WindowLimitsResolved {
  /** Sub-tokens of the configured labels' prompt (`<<ENT>> label … <<SEP>>`). */
  readonly promptTokens: number;
}

type InferenceConfig = Readonly<Config['inference']>;

/** The overlap problem of a window size, with the range that would be accepted. */
function overlapProblem(words: number, overlapWords: number, maxWidth: number): string | undefined {
  const min = 2 * (maxWidth - 1);
  const max = Math.ceil(words / 2) - 1; // overlap · 2 < window
  if (min > max) {
    return (
      `${NAMES.windowWords} gives windows of ${words} words, too small for this model: the overlap must be at least ` +
      `2·(max_width − 1) = ${min} words and below half the window, so windows need at least ${2 * min + 1} words`
    );
  }
  if (overlapWords < min) {
    return (
      `${NAMES.windowOverlapWords} is ${overlapWords}, below 2·(max_width − 1) = ${min} words for this model (max_width ${maxWidth}): ` +
      `an entity crossing a window cut could be reported cut; set it to ${min}..${max} (default ${DEFAULT_OVERLAP_WORDS})`
    );
  }
  if (overlapWords > max) {
    return `${NAMES.windowOverlapWords} is ${overlapWords}, not below half the window (${words} words): set it to ${min}..${max}`;
  }
  return undefined;
}

/**
 * Checks the inference settings against a model's tokenizer side and returns what they
 * resolve to. Throws one CONFIG_INVALID listing every problem, each with what to set.
 */
export function checkModelSettings(model: ModelText, inference: InferenceConfig, modelDir: string): CheckedSettings {
  const { maxLen, maxWidth } = model.settings;
  const pre = model.preprocessor;
  const problems: string[] = [];

  const words = inference.windowWords ?? maxLen;
  if (words > maxLen) {
    problems.push(`${NAMES.windowWords} is ${words}, above the model's max_len of ${maxLen} words: unset it (max_len is the default) or set it to at most ${maxLen}`);
  }
  const overlapIssue = overlapProblem(Math.min(words, maxLen), inference.windowOverlapWords, maxWidth);
  if (overlapIssue !== undefined) problems.push(overlapIssue);

  const positions = model.encoderPositions;
  const windowMaxTokens = inference.windowMaxTokens ?? pre.defaultMaxTokens;
  if (positions !== undefined && windowMaxTokens > positions) {
    problems.push(
      `${NAMES.windowMaxTokens} is ${windowMaxTokens}, above the encoder's ${positions} positions (encoder_config.max_position_embeddings): ` +
        `unset it or set it to at most ${positions}`,
    );
  }

  let promptTokens: number | undefined;
  try {
    promptTokens = pre.prompt(inference.labels).ids.length;
  } catch (err) {
    if (!isEnricherError(err, 'LABELS_INVALID')) throw err;
    problems.push(`${NAMES.labels}: ${err.message}`);
  }
  if (promptTokens !== undefined) {
    const budget = Math.min(windowMaxTokens, positions ?? windowMaxTokens);
    const textTokens = budget - 2 - promptTokens;
    if (textTokens < MIN_TEXT_TOKENS) {
      problems.push(
        `the ${new Set(inference.labels).size} labels of ${NAMES.labels} take ${promptTokens} sub-tokens of the ${budget}-token ` +
          `encoder budget, leaving ${textTokens} for text (at least ${MIN_TEXT_TOKENS} are needed): use fewer or shorter labels` +
          (positions === undefined || windowMaxTokens < positions ? ` or raise ${NAMES.windowMaxTokens}` : ''),
      );
    }
  }

  // A native relation model asks the relation names in the entity prompt (`<<REL>> name`): labels
  // and relations must fit one prompt together. Other models ask each name in multitask labels
  // (`<entity> <> <name>`, the shortest checked here), which must leave text room beside the task prompt.
  const native = model.settings.relex !== undefined;
  if (native && inference.relations.length > 0) {
    if (inference.mergeAdjacent) problems.push(`${NAMES.relations} with a relation model cannot be combined with MERGE_ADJACENT (it changes the spans relations are reported on)`);
    try {
      pre.limits(pre.prompt(inference.labels, inference.relations), windowOptions({ inference }));
    } catch (err) {
      if (!isEnricherError(err)) throw err;
      problems.push(`${NAMES.relations} with ${NAMES.labels} in one relation-model prompt: ${err.message}`);
    }
  }
  for (const name of native ? [] : inference.relations) {
    try {
      pre.limits(pre.prompt([`x <> ${name}`]), windowOptions({ inference }), pre.taskPrefix(RELATION_TASK_PROMPT));
    } catch (err) {
      if (!isEnricherError(err)) throw err;
      problems.push(`${NAMES.relations} ${JSON.stringify(name)}: ${err.message}`);
    }
  }

  if (problems.length === 0) {
    // The rule every request goes through, for the configured labels: whatever it would
    // refuse on traffic is refused here. (The checks above say why, with advice.)
    try {
      const limits = pre.limits(pre.prompt(inference.labels), windowOptions({ inference }));
      return { ...limits, promptTokens: promptTokens ?? 0 };
    } catch (err) {
      if (!isEnricherError(err)) throw err;
      problems.push(err.message);
    }
  }
  throw new EnricherError('CONFIG_INVALID', `invalid configuration for the model ${modelDir}: ${problems.join('; ')}`, {
    context: { maxLen, maxWidth, ...(positions !== undefined ? { encoderPositions: positions } : {}) },
  });
}

/** What the start-up check read and resolved. */
export interface CheckedModel {
  /** The window settings the configuration resolves to. */
  window: CheckedSettings;
  /** The model's tokenizer side, loaded once: hand it to `createExtractor` (the pool prepares articles with it). */
  modelText: ModelText;
}

/**
 * The start-up check of the service: the model folder is required and must be complete, and
 * the settings must fit it. Reads the config and the tokenizer only (no ONNX session), on
 * the calling thread; the workers load the same folder afterwards.
 */
export function preflightModel(config: Readonly<Config>): CheckedModel {
  const dir = config.model.dir;
  if (dir === undefined) throw new EnricherError('CONFIG_INVALID', 'model.dir (MODEL_DIR, --model) is required: the model folder to run');
  const modelText = loadModelText(dir, { variant: config.model.variant });
  return { window: checkModelSettings(modelText, config.inference, dir), modelText };
}
