/**
 * `news-entity-enricher/engine`: the GLiNER engine alone (model folder in, entities out),
 * without Kafka or Elasticsearch clients.
 *
 *   import { GlinerEngine } from 'news-entity-enricher/engine';
 *   const engine = await GlinerEngine.load('models/gliner-news-minilm-l6', { variant: 'int8' });
 *   const [r] = await engine.predict(['Angela Merkel met Emmanuel Macron in Paris.'],
 *     { labels: ['person', 'location'], threshold: 0.5, flatNer: true, multiLabel: false });
 *   await engine.close();
 */
export { GlinerEngine, type EngineOptions } from './inference/engine.js';
export { InferencePool, type BatchStats, type PoolOptions } from './inference/pool.js';
export type { EntityExtractor, ExtractionRequest, FieldEntities, FieldText } from './core/extraction.js';
export type { DecodeOptions, Entity, ModelInfo, PredictOptions, TextResult, WindowOptions } from './core/types.js';
export { DEFAULT_DECODE, DEFAULT_OVERLAP_WORDS, validateDecode } from './core/defaults.js';
export { EnricherError, isEnricherError, ERROR_CATALOG, type ErrorCode } from './errors.js';
