import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EnricherError } from '../errors.js';

/**
 * ONNX file variants as Hugging Face ONNX exports (onnx-community, transformers.js) name them.
 * A variant may also be given as a file name (`model_int8.onnx`) or a path inside the folder.
 */
export const ONNX_VARIANTS = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  quantized: 'model_quantized.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  bnb4: 'model_bnb4.onnx',
  /** The offline-optimised graph (models/export_onnx.py --variants opt,opt_int8; BERT-family encoders). */
  opt: 'model_opt.onnx',
  opt_int8: 'model_opt_int8.onnx',
  /**
   * The span head factored (models/export_onnx.py --variants factored,factored_int8; markerV0 span
   * models): same inputs and logits as fp32 up to float summation order, a fraction of the work.
   */
  factored: 'model_factored.onnx',
  factored_int8: 'model_factored_int8.onnx',
  /**
   * The factored graph with the encoder's MatMuls kept fp32 and the rest dynamic int8 (word
   * embeddings, bi-LSTM, span head, prompt projection): models/export_onnx.py --variants factored_mixed.
   */
  factored_mixed: 'model_factored_mixed.onnx',
} as const;

export type OnnxVariant = keyof typeof ONNX_VARIANTS;

/**
 * The variants the project's own export writes (models/export_onnx.py, npm run train), fp32-exact
 * first, then by how much is quantised: what a folder is best run with when no variant is named.
 */
export const PROJECT_VARIANTS = ['fp32', 'factored', 'factored_mixed', 'int8', 'factored_int8'] as const satisfies readonly OnnxVariant[];
export type ProjectVariant = (typeof PROJECT_VARIANTS)[number];

/**
 * The most exact of the project's variants present in `dir/onnx/` (fp32, factored, factored_mixed,
 * int8, factored_int8), or undefined. A training output has them all; the shipped model folder one.
 */
export function mostExactVariant(dir: string): ProjectVariant | undefined {
  return PROJECT_VARIANTS.find((v) => existsSync(join(dir, 'onnx', ONNX_VARIANTS[v])));
}

/** Resolved paths of a model folder. */
export interface ModelFiles {
  dir: string;
  /** Display name: the folder's base name. */
  name: string;
  glinerConfig: string;
  tokenizerJson: string;
  tokenizerConfig: string;
  onnx: string;
  /** `onnx` relative to `dir`, for reports. */
  onnxRelative: string;
}

const REQUIRED = ['gliner_config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/**
 * Finds the files of a model folder laid out as on Hugging Face:
 * `gliner_config.json`, `tokenizer.json`, `tokenizer_config.json`, `onnx/<variant>.onnx`
 * (also accepted at the folder's top level, where gliner's own exporter writes it).
 * Missing files are reported all at once.
 */
export function resolveModelFiles(dir: string, variant: string = 'fp32'): ModelFiles {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new EnricherError('MODEL_FILE_MISSING', `model folder ${root} does not exist or is not a directory`);
  }
  const missing = REQUIRED.filter((f) => !existsSync(join(root, f)));
  const fileName = variant in ONNX_VARIANTS ? ONNX_VARIANTS[variant as OnnxVariant] : variant;
  if (!fileName.endsWith('.onnx')) {
    throw new EnricherError(
      'MODEL_FILE_MISSING',
      `unknown model variant "${variant}": use one of ${Object.keys(ONNX_VARIANTS).join(', ')} or an .onnx file name`,
    );
  }
  const candidates = fileName.includes('/') ? [fileName] : [join('onnx', fileName), fileName];
  const onnxRelative = candidates.find((c) => existsSync(join(root, c)));
  if (onnxRelative === undefined) missing.push(candidates[0] as (typeof REQUIRED)[number]);
  if (missing.length > 0 || onnxRelative === undefined) {
    const present = existsSync(join(root, 'onnx')) ? listOnnx(join(root, 'onnx')) : [];
    const hint = present.length > 0 ? ` (onnx/ holds: ${present.join(', ')})` : '';
    throw new EnricherError('MODEL_FILE_MISSING', `model folder ${root} lacks ${missing.join(', ')}${hint}`);
  }
  return {
    dir: root,
    name: basename(root),
    glinerConfig: join(root, 'gliner_config.json'),
    tokenizerJson: join(root, 'tokenizer.json'),
    tokenizerConfig: join(root, 'tokenizer_config.json'),
    onnx: join(root, onnxRelative),
    onnxRelative,
  };
}

function listOnnx(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .sort();
}

/** Reads and parses a JSON file of the model folder with a coded error on failure. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new EnricherError('MODEL_CONFIG_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** sha256 of a (possibly large) file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
