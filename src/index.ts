/**
 * `news-entity-enricher`: the library entry point. The engine (also alone as
 * `news-entity-enricher/engine`), the configuration, the article contracts and the service.
 *
 *   import { EnricherService, loadConfig, createLogger } from 'news-entity-enricher';
 */
export * from './engine-api.js';
export { ConfigSchema, DEFAULT_LABELS, type Config } from './config.js';
export { loadConfig, redactConfig, type LoadConfigInput } from './config-load.js';
export { decodeArticle, parseArticle, type Article, type ArticleLimits } from './article.js';
export { buildEnrichedArticle, type EnrichedArticle, type EnrichmentMeta } from './enriched.js';
export { createExtractor, type ExtractorOptions } from './inference/create-extractor.js';
export { EnricherService, type CloseResult, type ServiceOptions } from './pipeline/service.js';
export { createLogger, type Logger } from './logger.js';
export { ENRICHER_VERSION } from './version.js';
