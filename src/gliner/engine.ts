import { EnricherError } from '../errors.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../core/extraction.js';
import { mergeWindowSpans } from '../longtext/merge.js';
import { packBatches, type BatchLimits } from './batching.js';
import { validateDecode } from '../core/defaults.js';
import { sequenceLength, type EncodedText } from './encode.js';
import type { WordSpan } from '../core/spans.js';
import { loadModel, type LoadedModel, type LoadOptions } from './model.js';
import { mergeAdjacent, toEntities } from './postprocess.js';
import { windowInput, type PreparedText } from './preprocess.js';
import type { BatchTiming } from './runner.js';
import type { DecodeOptions, ModelInfo, PredictOptions, TextResult } from '../core/types.js';

export interface EngineOptions extends LoadOptions, Partial<BatchLimits> {}


/**
 * The in-process GLiNER engine: reference-identical results for texts within the
 * model's limits, long texts by overlapping windows. Used by the CLI and tests; the
 * service runs the same stages in a worker pool.
 */
export class GlinerEngine implements EntityExtractor {
  /** Accumulated stage times since load (ms). */
  readonly timing: BatchTiming = { encodeMs: 0, runMs: 0, decodeMs: 0 };
  private closed = false;

  private constructor(
    private readonly loaded: LoadedModel,
    private readonly batchLimits: BatchLimits,
  ) {}

  static async load(dir: string, options: EngineOptions = { executionProvider: 'cpu' }): Promise<GlinerEngine> {
    const limits: BatchLimits = { maxBatchSize: options.maxBatchSize ?? 8, maxBatchTokens: options.maxBatchTokens ?? 8192 };
    if (!(limits.maxBatchSize >= 1) || !(limits.maxBatchTokens >= 1)) {
      throw new EnricherError('OPTIONS_INVALID', 'maxBatchSize and maxBatchTokens must be ≥ 1');
    }
    return new GlinerEngine(await loadModel(dir, options), limits);
  }

  get model(): ModelInfo {
    return this.loaded.info;
  }

  get settings(): LoadedModel['settings'] {
    return this.loaded.settings;
  }

  /** The tokenizer-side stage (word splitting, sub-tokens, windows), e.g. to size work. */
  get preprocessor(): LoadedModel['preprocessor'] {
    return this.loaded.preprocessor;
  }

  /** Entities of each text, in input order. */
  async predict(texts: readonly string[], options: PredictOptions): Promise<TextResult[]> {
    if (this.closed) throw new EnricherError('POOL_CLOSED', 'engine is closed');
    const decode = validateDecode(options);
    const pre = this.loaded.preprocessor;
    const prompt = pre.prompt(options.labels);
    const limits = pre.limits(prompt, options.window);
    const prepared: PreparedText[] = texts.map((t) => pre.prepareText(t, limits));

    const inputs: EncodedText[] = [];
    const owner: Array<[text: number, window: number]> = [];
    prepared.forEach((p, t) =>
      p.windows.forEach((w, i) => {
        inputs.push(windowInput(p, w));
        owner.push([t, i]);
      }),
    );
    const perWindow: WordSpan[][][] = prepared.map((p) => p.windows.map(() => []));
    const lengths = inputs.map((x) => sequenceLength(x, prompt.ids.length));
    for (const batch of packBatches(lengths, this.batchLimits)) {
      const spans = await this.loaded.runner.run(
        batch.map((i) => inputs[i]!),
        prompt,
        decode,
        this.timing,
      );
      batch.forEach((i, j) => {
        const [t, w] = owner[i]!;
        perWindow[t]![w] = spans[j]!;
      });
    }

    return prepared.map((p, t) => {
      const merged = mergeWindowSpans(perWindow[t]!, p.windows, decode.flatNer, decode.multiLabel);
      let entities = toEntities(texts[t]!, p.starts, p.ends, merged, prompt.labels);
      if (options.mergeAdjacent === true) entities = mergeAdjacent(texts[t]!, entities);
      return { entities, windows: p.windows.length, words: p.counts.length };
    });
  }

  /** EntityExtractor: all fields of an article in one call (their windows share batches). */
  async extract(request: ExtractionRequest): Promise<FieldEntities[]> {
    const results = await this.predict(
      request.fields.map((f) => f.text),
      {
        ...request.decode,
        labels: request.labels,
        ...(request.window ? { window: request.window } : {}),
        ...(request.mergeAdjacent !== undefined ? { mergeAdjacent: request.mergeAdjacent } : {}),
      },
    );
    return results.map((r, i) => ({ field: request.fields[i]!.field, ...r }));
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.loaded.release();
  }
}
