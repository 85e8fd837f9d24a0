import type { Config } from '../config.js';
import { cpuInfo } from '../cpu-info.js';
import { EnricherError } from '../errors.js';
import { GnerPool } from '../gner/gner-pool.js';
import { gnerSettings } from '../gner/gner-preflight.js';
import { resolveModelFiles, sha256File } from '../gliner/model-dir.js';
import type { ModelText } from '../gliner/model-text.js';
import type { Logger } from '../logger.js';
import type { EntityExtractor } from '../core/extraction.js';
import { engineOptions, intraOpThreads } from './options.js';
import { InferencePool, type BatchStats } from './pool.js';

export interface ExtractorOptions {
  /** Called after every inference batch (metrics); for GNER after every article (items = its prompts). */
  onBatch?: (stats: BatchStats) => void;
  /** The model's tokenizer side from `preflightModel`, so the calling thread loads it once. */
  modelText?: ModelText;
}

/**
 * The extractor the service runs, for the configured backend (`MODEL_BACKEND`): the GLiNER
 * worker-thread pool, or the GNER pool; either way inference never blocks the event loop that
 * serves Kafka heartbeats and probes. Model loading failures surface here, before the service
 * joins its consumer group.
 */
export async function createExtractor(config: Readonly<Config>, logger: Logger, options: ExtractorOptions = {}): Promise<EntityExtractor> {
  if (config.model.dir === undefined) throw new EnricherError('CONFIG_INVALID', 'model.dir (MODEL_DIR) is required');
  if (config.model.backend === 'gner') return createGnerExtractor(config, logger, options);
  const files = resolveModelFiles(config.model.dir, config.model.variant);
  const sha256 = await sha256File(files.onnx);
  const { batchMaxItems, batchMaxTokens, ...load } = engineOptions(config);
  const pool = await InferencePool.start({
    modelDir: config.model.dir,
    load: { ...load, sha256 },
    workers: config.inference.workers,
    batcher: {
      batchMaxItems,
      batchMaxTokens,
      batchMaxWaitMs: config.inference.batchMaxWaitMs,
    },
    logger,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.modelText ? { modelText: options.modelText } : {}),
  });
  logger.info({ model: pool.model, workers: config.inference.workers, intraOpThreads: load.intraOpThreads, cpu: cpuInfo() }, 'model loaded');
  return pool;
}

async function createGnerExtractor(config: Readonly<Config>, logger: Logger, options: ExtractorOptions): Promise<EntityExtractor> {
  const inf = config.inference;
  const onBatch = options.onBatch;
  const pool = await GnerPool.start({
    modelDir: config.model.dir!,
    load: {
      variant: config.model.variant,
      ...(config.model.name ? { name: config.model.name } : {}),
      executionProvider: inf.executionProvider,
      intraOpThreads: intraOpThreads(config),
      interOpThreads: inf.interOpThreads,
    },
    settings: gnerSettings(config),
    workers: inf.workers,
    logger,
    ...(onBatch
      ? { onArticle: (s, ms) => onBatch({ items: s.prompts, paddedTokens: 0, tokens: s.generatedTokens, encodeMs: 0, runMs: ms, decodeMs: 0, latencyMs: ms }) }
      : {}),
  });
  logger.info({ model: pool.model, backend: 'gner', workers: inf.workers, gner: gnerSettings(config), cpu: cpuInfo() }, 'model loaded');
  return pool;
}

export type { EntityExtractor };
