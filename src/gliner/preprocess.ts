import { EnricherError } from '../errors.js';
import { planWindows, type Window } from '../longtext/windows.js';
import { DEFAULT_OVERLAP_WORDS, MIN_TEXT_TOKENS } from '../core/defaults.js';
import type { EncodedText } from './encode.js';
import type { GlinerSettings } from './model-config.js';
import { buildPrompt, type Prompt } from './prompt.js';
import type { WordTokenizer } from './tokenizer.js';
import type { WindowOptions } from '../core/types.js';
import { sentenceEnds, splitWords } from './words.js';

/** A text split into words, sub-tokens and windows; everything needed to infer and map back. */
export interface PreparedText {
  /** UTF-16 start/end of each word. */
  starts: Int32Array;
  ends: Int32Array;
  /** Sub-token ids of all words, concatenated, and per-word counts. */
  ids: Int32Array;
  counts: Int32Array;
  /** tokenStart[i] = offset of word i in `ids` (length words + 1). */
  tokenStart: Int32Array;
  windows: Window[];
}

/** Words before every window's text (a task prompt): their sub-tokens, as a text's. */
export interface TaskPrefix {
  ids: Int32Array;
  counts: Int32Array;
}

/** Resolved window limits for one label prompt. */
export interface WindowLimitsResolved {
  maxWords: number;
  maxTextTokens: number;
  overlapWords: number;
  windowMaxTokens: number;
  cutAtSentences: boolean;
}


/**
 * Tokenizer-side work of the engine: prompts, word splitting, sub-tokens, windows.
 * Pure and synchronous: it runs in the CLI's thread or in a pool worker alike.
 */
export class Preprocessor {
  private readonly prompts = new Map<string, Prompt>();
  private readonly prefixes = new Map<string, TaskPrefix>();

  constructor(
    readonly tokenizer: WordTokenizer,
    readonly settings: GlinerSettings,
    readonly entId: number,
    /** Encoder budget in sub-tokens, from the model's encoder config. */
    readonly defaultMaxTokens: number,
    /** The tokenizer's `<<REL>>` id (relation models only). */
    readonly relId?: number,
  ) {}

  /** Prompt for a label list and, on a relation model, relation names (memoised: label sets repeat). */
  prompt(labels: readonly string[], relations: readonly string[] = []): Prompt {
    const key = JSON.stringify([labels, relations]);
    let p = this.prompts.get(key);
    if (p === undefined) {
      p = buildPrompt(labels, this.tokenizer, this.settings, this.entId, relations, this.relId);
      if (this.prompts.size > 256) this.prompts.clear();
      this.prompts.set(key, p);
    }
    return p;
  }

  /** The words of a task prompt, tokenized as text words (memoised: a task prompt is a constant). */
  taskPrefix(prompt: string): TaskPrefix {
    let prefix = this.prefixes.get(prompt);
    if (prefix === undefined) {
      prefix = this.tokenizePrefix(prompt);
      if (this.prefixes.size > 16) this.prefixes.clear();
      this.prefixes.set(prompt, prefix);
    }
    return prefix;
  }

  private tokenizePrefix(prompt: string): TaskPrefix {
    const words = splitWords(prompt);
    const pieces = Array.from({ length: words.count }, (_, i) => this.tokenizer.encodeWord(prompt.slice(words.starts[i], words.ends[i])));
    const ids = new Int32Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) {
      ids.set(p, at);
      at += p.length;
    }
    return { ids, counts: Int32Array.from(pieces, (p) => p.length) };
  }

  /**
   * Validates window options against the model and the prompt. A task prefix takes its words
   * from every window's `max_len` and its sub-tokens from the encoder budget.
   */
  limits(prompt: Prompt, options: Partial<WindowOptions> = {}, prefix?: TaskPrefix): WindowLimitsResolved {
    const { maxWidth } = this.settings;
    const prefixWords = prefix?.counts.length ?? 0;
    const maxLen = this.settings.maxLen - prefixWords;
    if (maxLen < 1) throw new EnricherError('OPTIONS_INVALID', `the task prompt's ${prefixWords} words leave no room in the model's max_len of ${this.settings.maxLen}`);
    const maxWords = options.maxWords ?? maxLen;
    const overlapWords = options.overlapWords ?? DEFAULT_OVERLAP_WORDS;
    const bad = (msg: string): never => {
      throw new EnricherError('OPTIONS_INVALID', msg);
    };
    if (options.windowMaxTokens !== undefined && options.maxTokens !== undefined) {
      bad('give window.windowMaxTokens or its old name window.maxTokens, not both');
    }
    const windowMaxTokens = options.windowMaxTokens ?? options.maxTokens ?? this.defaultMaxTokens;
    if (!Number.isInteger(maxWords) || maxWords < 1 || maxWords > maxLen) {
      bad(`window size ${maxWords} must be an integer in 1..${maxLen} (the model's max_len${prefixWords > 0 ? ` less the task prompt's ${prefixWords} words` : ''})`);
    }
    if (!Number.isInteger(overlapWords) || overlapWords < 0 || overlapWords * 2 >= maxWords) {
      bad(`window overlap ${overlapWords} must be an integer ≥ 0 and less than half the window (${maxWords} words)`);
    }
    const minOverlap = 2 * (maxWidth - 1);
    if (overlapWords < minOverlap && maxWords > overlapWords) {
      // Texts longer than one window need this for entities crossing a cut to be seen whole.
      bad(`window overlap ${overlapWords} is below 2·(max_width − 1) = ${minOverlap} words; entities crossing a cut could be cut`);
    }
    const maxTextTokens = windowMaxTokens - 2 - prompt.ids.length - (prefix?.ids.length ?? 0);
    if (!Number.isFinite(windowMaxTokens) && windowMaxTokens !== Infinity) bad(`max tokens ${windowMaxTokens} is not a number`);
    if (maxTextTokens < MIN_TEXT_TOKENS) {
      throw new EnricherError(
        'LABELS_INVALID',
        `the label prompt takes ${prompt.ids.length} sub-tokens${prefix ? ` and the task prompt ${prefix.ids.length}` : ''} of the ${windowMaxTokens}-token encoder budget, ` +
          `leaving ${maxTextTokens} for text (need ≥ ${MIN_TEXT_TOKENS}): use fewer or shorter labels`,
      );
    }
    const cutAtSentences = options.cutAtSentences ?? true;
    if (typeof cutAtSentences !== 'boolean') bad('cutAtSentences must be a boolean');
    return { maxWords, maxTextTokens, overlapWords, windowMaxTokens, cutAtSentences };
  }

  /** Splits, tokenizes and windows one text. A text with no words gets no windows. */
  prepareText(text: string, limits: WindowLimitsResolved): PreparedText {
    const words = splitWords(text);
    const n = words.count;
    const counts = new Int32Array(n);
    const tokenStart = new Int32Array(n + 1);
    const pieces: Int32Array[] = new Array<Int32Array>(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const ids = this.tokenizer.encodeWord(text.slice(words.starts[i], words.ends[i]));
      pieces[i] = ids;
      counts[i] = ids.length;
      tokenStart[i] = total;
      total += ids.length;
    }
    tokenStart[n] = total;
    const ids = new Int32Array(total);
    for (let i = 0; i < n; i++) ids.set(pieces[i]!, tokenStart[i]!);
    const ends = limits.cutAtSentences ? sentenceEnds(words) : new Uint8Array(n);
    const windows = planWindows(counts, ends, limits);
    return { starts: words.starts, ends: words.ends, ids, counts, tokenStart, windows };
  }
}

/** The model input of one window of a prepared text (views, no copies). */
export function windowInput(prepared: PreparedText, window: Window): EncodedText {
  return {
    ids: prepared.ids.subarray(prepared.tokenStart[window.start], prepared.tokenStart[window.end]),
    counts: prepared.counts.subarray(window.start, window.end),
  };
}
