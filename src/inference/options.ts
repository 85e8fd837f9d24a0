import { availableParallelism } from 'node:os';
import type { Config } from '../config.js';
import { DEFAULT_BATCH_MAX_ITEMS } from '../core/defaults.js';
import type { LoadOptions } from '../gliner/model.js';
import type { DecodeOptions, WindowOptions } from '../core/types.js';

/** ORT threads per worker: the configured value, or the cores shared evenly by the workers. */
export function intraOpThreads(config: Readonly<Config>): number {
  const { intraOpThreads: t, workers } = config.inference;
  return t > 0 ? t : Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
}

/** Windows per batch: the configured value, else what measured best for the execution provider. */
export function batchMaxItems(config: Readonly<Config>): number {
  return config.inference.batchMaxItems ?? DEFAULT_BATCH_MAX_ITEMS[config.inference.executionProvider];
}

/**
 * ONNX Runtime's own log severity for our log level (ORT writes to stderr itself, outside
 * pino): `trace` shows its verbose log, `debug` its info and warnings, every other level only
 * its errors (its load-time warnings about unused initializers in exported GLiNER graphs are
 * noise to an operator), `silent` only fatal.
 */
export function ortLogSeverity(level: Readonly<Config>['logLevel']): 0 | 1 | 2 | 3 | 4 {
  return level === 'trace' ? 0 : level === 'debug' ? 1 : level === 'silent' || level === 'fatal' ? 4 : 3;
}

/**
 * Articles handed to the extractor at once (the service's limiter, `extract`'s window): the
 * configured `inference.concurrency`, or when 0 (auto) enough to keep every worker's batches
 * full twice over, at least 4.
 */
export function effectiveConcurrency(config: Readonly<Config>): number {
  const c = config.inference.concurrency;
  return c > 0 ? c : Math.max(4, Math.max(1, config.inference.workers) * batchMaxItems(config) * 2);
}

/** Model loading and batching options from the configuration. */
export function engineOptions(config: Readonly<Config>): LoadOptions & { batchMaxItems: number; batchMaxTokens: number } {
  const inf = config.inference;
  return {
    variant: config.model.variant,
    ...(config.model.name ? { name: config.model.name } : {}),
    executionProvider: inf.executionProvider,
    deviceId: inf.cudaDeviceId,
    intraOpThreads: intraOpThreads(config),
    interOpThreads: inf.interOpThreads,
    graphOptimization: inf.ortGraphOptimization,
    allowSpinning: inf.ortAllowSpinning,
    logSeverity: ortLogSeverity(config.logLevel),
    batchMaxItems: batchMaxItems(config),
    batchMaxTokens: inf.batchMaxTokens,
  };
}

export function decodeOptions(config: Readonly<Config>): DecodeOptions {
  const { threshold, flatNer, multiLabel } = config.inference;
  return { threshold, flatNer, multiLabel };
}

/** Window options of every request; checked against the model once at start-up (model-settings.ts). */
export function windowOptions(config: Pick<Readonly<Config>, 'inference'>): Partial<WindowOptions> {
  const inf = config.inference;
  return {
    overlapWords: inf.windowOverlapWords,
    ...(inf.windowWords !== undefined ? { maxWords: inf.windowWords } : {}),
    ...(inf.windowMaxTokens !== undefined ? { windowMaxTokens: inf.windowMaxTokens } : {}),
  };
}
