import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { EnricherError } from '../errors.js';
import type { BatchFeeds } from './encode.js';
import { float16ToFloat32 } from './decode.js';
import type { RelationOutputs } from './relex-decode.js';

/** ONNX Runtime is isolated here: the rest of the engine sees feeds in and float32 logits out. */

export const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface SessionSettings {
  /** @defaultValue 'cpu' */
  executionProvider: string;
  /** CUDA device ordinal. @defaultValue 0 */
  deviceId?: number;
  /** Threads inside one operator; 0 lets ORT choose (all cores). @defaultValue 0 */
  intraOpThreads?: number;
  /** Threads across operators (parallel execution mode only). @defaultValue 1 */
  interOpThreads?: number;
  /**
   * ORT graph optimisation level. `extended` gives bit-identical logits to `all` on GLiNER
   * graphs and is as fast or faster on CPU (`all` adds layout transforms for convolutions).
   * @defaultValue 'extended'
   */
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Keep ORT's CPU memory arena (faster, holds peak memory). @defaultValue true */
  cpuMemArena?: boolean;
  /**
   * Let ORT's intra-op threads spin-wait for work between operators and runs. Spinning
   * saves wake-up latency in a tight inference loop but burns a core whenever the thread
   * that calls ORT does other work (tokenizing the next article, decoding).
   * @defaultValue true (ORT's default)
   */
  allowSpinning?: boolean;
  /** ORT log severity: 0 verbose … 4 fatal. @defaultValue 3 */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
}

export interface Logits {
  data: Float32Array;
  dims: readonly number[];
  /** A relation model's pair outputs (`rel_idx`, `rel_logits`, `rel_mask`), when the graph has them. */
  relations?: RelationOutputs;
}


const require = createRequire(import.meta.url);

/** Directory of the native ORT binding, where optional execution-provider libraries are installed. */
function bindingDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Throws unless the provider is known and its library is installed. Never falls back silently. */
export function checkExecutionProvider(settings: SessionSettings): ExecutionProvider {
  const ep = settings.executionProvider;
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(ep)) {
    throw new EnricherError(
      'EXECUTION_PROVIDER_UNAVAILABLE',
      `unknown execution provider "${ep}": use one of ${EXECUTION_PROVIDERS.join(', ')}`,
    );
  }
  if (ep === 'cuda') {
    const lib = join(bindingDir(), 'libonnxruntime_providers_cuda.so');
    if (!existsSync(lib)) {
      throw new EnricherError(
        'EXECUTION_PROVIDER_UNAVAILABLE',
        `CUDA was requested but ${lib} is not installed: install onnxruntime-node with ` +
          'ONNXRUNTIME_NODE_INSTALL=cuda12 (the CUDA image does this) or set the execution provider to cpu',
      );
    }
  }
  return ep as ExecutionProvider;
}

function asFloat32(t: ort.Tensor, name: string): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return float16ToFloat32(t.data as Uint16Array);
  throw new EnricherError('OUTPUT_SHAPE', `${name} have type ${t.type}, expected float32 or float16`);
}

/** Checks and reads the pair outputs of a relation graph for a batch of B. */
function relationOutputs(idx: ort.Tensor, logits: ort.Tensor, mask: ort.Tensor, B: number): RelationOutputs {
  const [b, pairs, two] = idx.dims;
  const shape = (t: ort.Tensor): string => `${t.type}[${t.dims.join(', ')}]`;
  if (idx.type !== 'int64' || idx.dims.length !== 3 || b !== B || two !== 2 || pairs === undefined) {
    throw new EnricherError('OUTPUT_SHAPE', `rel_idx is ${shape(idx)}; expected int64[${B}, P, 2]`);
  }
  if (logits.dims.length !== 3 || logits.dims[0] !== B || logits.dims[1] !== pairs) {
    throw new EnricherError('OUTPUT_SHAPE', `rel_logits is ${shape(logits)}; expected [${B}, ${pairs}, C]`);
  }
  if (mask.type !== 'bool' || mask.dims.length !== 2 || mask.dims[0] !== B || mask.dims[1] !== pairs) {
    throw new EnricherError('OUTPUT_SHAPE', `rel_mask is ${shape(mask)}; expected bool[${B}, ${pairs}]`);
  }
  const out: RelationOutputs = {
    idx: idx.data as BigInt64Array,
    logits: asFloat32(logits, 'rel_logits'),
    mask: mask.data as Uint8Array,
    pairs,
    classes: logits.dims[2]!,
  };
  return out;
}

/** One ONNX Runtime session with input checking and error context. */
export class OnnxSession {
  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly path: string,
    readonly executionProvider: ExecutionProvider,
  ) {}

  static async create(path: string, settings: SessionSettings): Promise<OnnxSession> {
    const ep = checkExecutionProvider(settings);
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: ep === 'cuda' ? [{ name: 'cuda', deviceId: settings.deviceId ?? 0 }] : ['cpu'],
      graphOptimizationLevel: settings.graphOptimization ?? 'extended',
      intraOpNumThreads: settings.intraOpThreads ?? 0,
      interOpNumThreads: settings.interOpThreads ?? 1,
      enableCpuMemArena: settings.cpuMemArena ?? true,
      executionMode: 'sequential',
      logSeverityLevel: settings.logSeverity ?? 3,
      extra: { session: { intra_op: { allow_spinning: settings.allowSpinning === false ? '0' : '1' } } },
    };
    try {
      return new OnnxSession(await ort.InferenceSession.create(path, options), path, ep);
    } catch (err) {
      const code = ep === 'cuda' ? 'EXECUTION_PROVIDER_UNAVAILABLE' : 'SESSION_CREATE_FAILED';
      throw new EnricherError(code, `cannot create ONNX Runtime session for ${path} on ${ep}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs one batch and returns the `logits` output as float32 (fp16 outputs are widened). */
  async run(feeds: BatchFeeds): Promise<Logits> {
    if (this.released) throw new EnricherError('POOL_CLOSED', 'session was released');
    const { batch: B, seqLen: S } = feeds;
    const all: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', feeds.inputIds, [B, S]),
      attention_mask: new ort.Tensor('int64', feeds.attentionMask, [B, S]),
      words_mask: new ort.Tensor('int64', feeds.wordsMask, [B, S]),
      text_lengths: new ort.Tensor('int64', feeds.textLengths, [B, 1]),
    };
    if (feeds.spanIdx && feeds.spanMask) {
      const N = feeds.spanMask.length / B;
      all.span_idx = new ort.Tensor('int64', feeds.spanIdx, [B, N, 2]);
      all.span_mask = new ort.Tensor('bool', feeds.spanMask, [B, N]);
    }
    const inputs: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const t = all[name];
      if (t === undefined) {
        throw new EnricherError('MODEL_UNSUPPORTED', `model input "${name}" is not a GLiNER uni-encoder input (have ${Object.keys(all).join(', ')})`);
      }
      inputs[name] = t;
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(inputs);
    } catch (err) {
      const shapes = Object.entries(inputs)
        .map(([k, v]) => `${k}:${v.type}[${v.dims.join(',')}]`)
        .join(' ');
      throw new EnricherError('INFERENCE_FAILED', `ONNX Runtime run failed (${shapes}): ${(err as Error).message}`, { cause: err });
    }
    const logits = out.logits ?? out[this.session.outputNames[0] ?? 'logits'];
    if (logits === undefined) throw new EnricherError('OUTPUT_SHAPE', 'model returned no "logits" output');
    const dims = logits.dims;
    const data = asFloat32(logits, 'logits');
    const relations = out.rel_idx && out.rel_logits && out.rel_mask ? relationOutputs(out.rel_idx, out.rel_logits, out.rel_mask, B) : undefined;
    for (const t of Object.values(out)) if (t !== logits && t !== out.rel_idx && t !== out.rel_logits && t !== out.rel_mask) t.dispose();
    return relations ? { data, dims, relations } : { data, dims };
  }

  /** Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
