import { pino } from 'pino';
import { DEFAULT_BATCH_MAX_TOKENS, ENGINE_BATCH_MAX_ITEMS } from '../core/defaults.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../core/extraction.js';
import type { ModelInfo, PredictOptions, TextResult } from '../core/types.js';
import { EnricherError } from '../errors.js';
import type { LoadOptions } from '../gliner/model.js';
import { addTiming, type BatchTiming } from '../gliner/runner.js';
import type { Logger } from '../logger.js';
import { InferencePool } from './pool.js';

export interface EngineOptions extends Omit<LoadOptions, 'executionProvider'> {
  /** @defaultValue 'cpu' */
  executionProvider?: LoadOptions['executionProvider'];
  /**
   * Windows per batch (the service's `BATCH_MAX_ITEMS`).
   * @defaultValue 8 (`ENGINE_BATCH_MAX_ITEMS`, the reference's batch size; core/defaults.ts says why it is not the service's)
   */
  batchMaxItems?: number;
  /** Padded sub-tokens per batch, rows × longest row (the service's `BATCH_MAX_TOKENS`). @defaultValue 8192 (`DEFAULT_BATCH_MAX_TOKENS`) */
  batchMaxTokens?: number;
  /** @deprecated the 0.1.0 name of `batchMaxItems`, accepted for one release. */
  maxBatchSize?: number;
  /** @deprecated the 0.1.0 name of `batchMaxTokens`, accepted for one release. */
  maxBatchTokens?: number;
  /** Worker threads; 0 (the default) runs on the calling thread. */
  workers?: number;
  /** Where the pool logs (worker deaths, failed batches). @defaultValue silent */
  logger?: Logger;
}

/**
 * The GLiNER engine as a library: reference-identical results for texts within the model's
 * limits, long texts by overlapping windows. A thin face on the one inference path, the
 * `InferencePool` the service runs (in-process by default: `workers` 0), so a result here is
 * a result there.
 */
export class GlinerEngine implements EntityExtractor {
  private constructor(
    private readonly pool: InferencePool,
    /** Accumulated stage times since load (ms). */
    readonly timing: BatchTiming,
  ) {}

  static async load(dir: string, options: EngineOptions = {}): Promise<GlinerEngine> {
    const { batchMaxItems: items, batchMaxTokens: tokens, maxBatchSize, maxBatchTokens, workers = 0, logger, executionProvider = 'cpu', ...rest } = options;
    if ((items !== undefined && maxBatchSize !== undefined) || (tokens !== undefined && maxBatchTokens !== undefined)) {
      throw new EnricherError('OPTIONS_INVALID', 'give batchMaxItems/batchMaxTokens or their old names maxBatchSize/maxBatchTokens, not both');
    }
    const batchMaxItems = items ?? maxBatchSize ?? ENGINE_BATCH_MAX_ITEMS;
    const batchMaxTokens = tokens ?? maxBatchTokens ?? DEFAULT_BATCH_MAX_TOKENS;
    const load: LoadOptions = { ...rest, executionProvider };
    if (!(batchMaxItems >= 1) || !(batchMaxTokens >= 1)) {
      throw new EnricherError('OPTIONS_INVALID', 'batchMaxItems and batchMaxTokens must be ≥ 1');
    }
    const timing: BatchTiming = { encodeMs: 0, runMs: 0, decodeMs: 0 };
    const pool = await InferencePool.start({
      modelDir: dir,
      load,
      workers,
      // No waiting for companions: one call's windows are all queued before the first batch goes.
      batcher: { batchMaxItems, batchMaxTokens, batchMaxWaitMs: 0 },
      logger: logger ?? pino({ level: 'silent' }),
      onBatch: (b) => addTiming(timing, b),
    });
    return new GlinerEngine(pool, timing);
  }

  get model(): ModelInfo {
    return this.pool.model;
  }

  /** Entities of each text, in input order (one request: the texts' windows share batches). */
  async predict(texts: readonly string[], options: PredictOptions): Promise<TextResult[]> {
    const { labels, window, mergeAdjacent, ...decode } = options;
    const fields = await this.extract({
      fields: texts.map((text, i) => ({ field: String(i), text })),
      labels,
      decode, // completed with the defaults and checked by the pool
      ...(window ? { window } : {}),
      ...(mergeAdjacent !== undefined ? { mergeAdjacent } : {}),
    });
    return fields.map(({ entities, windows, words }) => ({ entities, windows, words }));
  }

  /** EntityExtractor: all fields of an article in one call (their windows share batches). */
  extract(request: ExtractionRequest, signal?: AbortSignal): Promise<FieldEntities[]> {
    return this.pool.extract(request, signal);
  }

  /** Idempotent. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
