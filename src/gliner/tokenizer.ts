import { Tokenizer } from '@huggingface/tokenizers';
import { EnricherError } from '../errors.js';
import { readJsonFile } from './model-dir.js';
import { buildNormalizer, type NormalizeFn } from './normalizer.js';
import { bertWordEncoder } from './wordpiece.js';

/** Bounded memo of word → sub-token ids. News vocabulary repeats, so hits dominate. */
class WordCache {
  private map = new Map<string, Int32Array>();
  constructor(private readonly capacity: number) {}

  get(word: string): Int32Array | undefined {
    return this.map.get(word);
  }

  set(word: string, ids: Int32Array): void {
    // Whole-cache reset on overflow: O(1), no per-hit bookkeeping, and a working set
    // that is much smaller than the capacity stays resident.
    if (this.map.size >= this.capacity) this.map.clear();
    this.map.set(word, ids);
  }
}

const EMPTY = new Int32Array(0);

/**
 * Sub-word tokenizer as GLiNER uses it: every pre-split word is encoded on its own
 * (Metaspace prepends `▁` to each), the sequence is `[CLS] … [SEP]`. This equals the
 * Python tokenizer called with `is_split_into_words=True`. BERT-family tokenizers
 * (WordPiece) are encoded by wordpiece.ts, with the reference's Unicode classes.
 */
export class WordTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  private readonly tokenizer: Tokenizer;
  private readonly cache: WordCache;
  private readonly normalize: NormalizeFn | undefined;
  private readonly encodeBert: ((word: string) => number[]) | undefined;

  private constructor(
    tokenizer: Tokenizer,
    normalize: NormalizeFn | undefined,
    encodeBert: ((word: string) => number[]) | undefined,
    config: Record<string, unknown>,
    source: string,
    cacheSize: number,
  ) {
    this.tokenizer = tokenizer;
    this.normalize = normalize;
    this.encodeBert = encodeBert;
    this.cache = new WordCache(cacheSize);
    const special = (key: string): number => {
      const token = tokenName(config[key]);
      const id = token === undefined ? undefined : tokenizer.token_to_id(token);
      if (id === undefined) {
        throw new EnricherError('TOKENIZER_MISMATCH', `${source}: ${key} ${JSON.stringify(token)} is not in the vocabulary`);
      }
      return id;
    };
    this.clsId = special('cls_token');
    this.sepId = special('sep_token');
    this.padId = special('pad_token');
  }

  /** Loads `tokenizer.json` + `tokenizer_config.json` of a model folder. */
  static fromFiles(tokenizerJsonPath: string, tokenizerConfigPath: string, cacheSize = 200_000): WordTokenizer {
    const json = readJsonFile(tokenizerJsonPath) as Record<string, unknown>;
    const config = readJsonFile(tokenizerConfigPath) as Record<string, unknown>;
    // Our normalizer follows the Rust library's semantics; the JS one then gets already
    // normalized words. Unknown normalizer types keep the library's own implementation.
    const normalize = buildNormalizer(json.normalizer as Parameters<typeof buildNormalizer>[0]);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(normalize ? { ...json, normalizer: null } : json, config);
    } catch (err) {
      throw new EnricherError('MODEL_CONFIG_INVALID', `cannot build tokenizer from ${tokenizerJsonPath}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return new WordTokenizer(tokenizer, normalize, bertWordEncoder(json), config, tokenizerConfigPath, cacheSize);
  }

  /** Id of a single token string (e.g. `<<ENT>>`), or undefined. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Sub-token ids of one pre-split word, without special tokens. May be empty (e.g. a lone BOM). */
  encodeWord(word: string): Int32Array {
    const hit = this.cache.get(word);
    if (hit !== undefined) return hit;
    let ids: number[];
    if (this.encodeBert !== undefined) ids = this.encodeBert(word);
    else {
      const text = this.normalize ? this.normalize(word) : word;
      ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    }
    const out = ids.length === 0 ? EMPTY : Int32Array.from(ids);
    this.cache.set(word, out);
    return out;
  }
}

function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}
