import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ModelInfo } from '../core/types.js';
import { EnricherError } from '../errors.js';
import { sha256File } from '../gliner/model-dir.js';

/**
 * A GNER (T5) model folder as Hugging Face / optimum export it, run through
 * `@huggingface/transformers` (its `AutoModelForSeq2SeqLM` on onnxruntime-node, greedy
 * decoding with the KV cache of the merged decoder). This is the only module that imports
 * transformers.js; it is loaded in the GNER worker threads (and by `extract` with 0 workers).
 *
 * Folder: `config.json` (`model_type` t5), `generation_config.json`, `tokenizer.json`,
 * `tokenizer_config.json`, `onnx/encoder_model{suffix}.onnx`, `onnx/decoder_model_merged{suffix}.onnx`.
 */

/** MODEL_VARIANT → transformers.js `dtype` (which picks the file suffix: `_int8`, `_quantized`, …). */
export const GNER_VARIANTS = {
  fp32: 'fp32',
  fp16: 'fp16',
  int8: 'int8',
  uint8: 'uint8',
  quantized: 'q8',
  q4: 'q4',
  q4f16: 'q4f16',
  bnb4: 'bnb4',
} as const;

export type GnerVariant = keyof typeof GNER_VARIANTS;

const SUFFIX: Record<GnerVariant, string> = {
  fp32: '', fp16: '_fp16', int8: '_int8', uint8: '_uint8', quantized: '_quantized', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4',
};

/** What a GNER folder holds, checked without loading any ONNX (the start-up check). */
export interface GnerFiles {
  dir: string;
  name: string;
  variant: GnerVariant;
  encoder: string;
  decoder: string;
  /** `decoder` relative to `dir`, for reports (`enrichment.model_file`). */
  decoderRelative: string;
  /** The model's `eos_token_id`, `decoder_start_token_id` and encoder positions (none for T5: relative attention). */
  config: { modelType: string; eosTokenId: number; decoderStartTokenId: number };
}

/** Resolves and checks a GNER model folder; CONFIG_INVALID with what is missing. */
export function resolveGnerFiles(dirArg: string, variant: string = 'fp32'): GnerFiles {
  const dir = resolve(dirArg);
  if (!Object.hasOwn(GNER_VARIANTS, variant)) {
    throw new EnricherError('CONFIG_INVALID', `unknown GNER model variant "${variant}": use one of ${Object.keys(GNER_VARIANTS).join(', ')}`);
  }
  const v = variant as GnerVariant;
  const need = ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/encoder_model${SUFFIX[v]}.onnx`, `onnx/decoder_model_merged${SUFFIX[v]}.onnx`];
  const missing = need.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new EnricherError('MODEL_FILE_MISSING', `GNER model folder ${dir} lacks ${missing.join(', ')} (a seq2seq export with optimum: models/build_gner_model.py)`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new EnricherError('MODEL_CONFIG_INVALID', `${join(dir, 'config.json')} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const modelType = raw['model_type'];
  if (modelType !== 't5' && modelType !== 'mt5') {
    throw new EnricherError('MODEL_UNSUPPORTED', `${join(dir, 'config.json')}: model_type ${JSON.stringify(modelType)} is not a T5 model (GNER-T5); MODEL_BACKEND=gner runs T5 seq2seq exports`);
  }
  const int = (k: string, d: number): number => (typeof raw[k] === 'number' ? (raw[k] as number) : d);
  return {
    dir,
    name: basename(dir),
    variant: v,
    encoder: join(dir, 'onnx', `encoder_model${SUFFIX[v]}.onnx`),
    decoder: join(dir, 'onnx', `decoder_model_merged${SUFFIX[v]}.onnx`),
    decoderRelative: `onnx/decoder_model_merged${SUFFIX[v]}.onnx`,
    config: { modelType, eosTokenId: int('eos_token_id', 1), decoderStartTokenId: int('decoder_start_token_id', 0) },
  };
}

export interface GnerLoadOptions {
  variant?: string;
  name?: string;
  executionProvider?: 'cpu' | 'cuda';
  intraOpThreads?: number;
  interOpThreads?: number;
}

/** One generation: ids as the model wrote them (decoder start first) and their text without special tokens. */
export interface Generated {
  ids: number[];
  text: string;
  /** It ended with `</s>` (false: cut at the token cap). */
  finished: boolean;
}

/** transformers.js, as far as this module uses it (its types are loose where tensors meet). */
type Transformers = typeof import('@huggingface/transformers');
type Tokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type Seq2Seq = Awaited<ReturnType<Transformers['AutoModelForSeq2SeqLM']['from_pretrained']>>;

/** A loaded GNER model: tokenizer and encoder/decoder sessions. */
export class GnerModel {
  private released = false;

  private constructor(
    readonly info: ModelInfo,
    readonly files: GnerFiles,
    private readonly tokenizer: Tokenizer,
    private readonly model: Seq2Seq,
  ) {}

  static async load(dir: string, options: GnerLoadOptions = {}): Promise<GnerModel> {
    const files = resolveGnerFiles(dir, options.variant);
    const tf: Transformers = await import('@huggingface/transformers');
    // Local folders only: never reach for the hub.
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    tf.env.localModelPath = '';
    let tokenizer: Tokenizer;
    try {
      tokenizer = await tf.AutoTokenizer.from_pretrained(files.dir);
    } catch (err) {
      throw new EnricherError('MODEL_CONFIG_INVALID', `the tokenizer of ${files.dir} did not load: ${(err as Error).message}`, { cause: err });
    }
    const sessionOptions = {
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...(options.interOpThreads ? { interOpNumThreads: options.interOpThreads } : {}),
    };
    let model: Seq2Seq;
    try {
      model = await tf.AutoModelForSeq2SeqLM.from_pretrained(files.dir, {
        dtype: GNER_VARIANTS[files.variant],
        device: options.executionProvider === 'cuda' ? 'cuda' : 'cpu',
        session_options: sessionOptions,
      });
    } catch (err) {
      throw new EnricherError('SESSION_CREATE_FAILED', `GNER model ${files.dir} (${files.variant}) did not load: ${(err as Error).message}`, { cause: err });
    }
    const info: ModelInfo = {
      name: options.name ?? files.name,
      sha256: await sha256File(files.decoder),
      file: files.decoderRelative,
      spanMode: 'generative',
      backend: 'gner',
      maxLen: 0,
      maxWidth: 0,
      executionProvider: options.executionProvider ?? 'cpu',
    };
    const loaded = new GnerModel(info, files, tokenizer, model);
    try {
      // Probe: one short generation, so a graph that cannot run fails at start-up, not on traffic.
      await loaded.generate(['Sentence: probe'], 2);
    } catch (err) {
      await loaded.release();
      throw err;
    }
    return loaded;
  }

  /** Sub-tokens of a text, `</s>` included (the encoder's input length). */
  tokenCount(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  /** What the tokenizer gives back for a word (encode, decode without special tokens): the evaluator's back-tokenization. */
  backTokenize(word: string): string {
    return this.tokenizer.decode(this.tokenizer.encode(word), { skip_special_tokens: true });
  }

  /** Input ids of a prompt (for tests against the reference's). */
  inputIds(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  /** Greedy generation for a batch of prompts (padded together), at most `maxNewTokens` each. */
  async generate(prompts: readonly string[], maxNewTokens: number): Promise<Generated[]> {
    if (this.released) throw new EnricherError('POOL_CLOSED', 'GNER model is released');
    if (prompts.length === 0) return [];
    const inputs = this.tokenizer([...prompts], { padding: true, truncation: false });
    let out: unknown;
    try {
      out = await this.model.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false, num_beams: 1 });
    } catch (err) {
      throw new EnricherError('INFERENCE_FAILED', `GNER generation failed: ${(err as Error).message}`, { cause: err });
    }
    const rows = (out as { tolist(): Array<Array<bigint | number>> }).tolist();
    const eos = this.files.config.eosTokenId;
    return rows.map((row) => {
      const ids = row.map(Number);
      // Rows that ended early are padded after their `</s>`; keep what the model wrote.
      const end = ids.indexOf(eos, 1);
      const kept = end === -1 ? ids : ids.slice(0, end + 1);
      return { ids: kept, text: this.tokenizer.decode(kept, { skip_special_tokens: true }), finished: end !== -1 };
    });
  }

  /** Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.model.dispose();
  }
}
