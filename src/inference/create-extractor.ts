import type { Config } from '../config.js';
import { EnricherError } from '../errors.js';
import { GlinerEngine } from '../gliner/engine.js';
import type { Logger } from '../logger.js';
import type { EntityExtractor } from './extractor.js';
import { engineOptions } from './options.js';

/**
 * The extractor the service runs. Model loading failures surface here, before the
 * service joins its consumer group.
 */
export async function createExtractor(config: Readonly<Config>, logger: Logger): Promise<EntityExtractor> {
  if (config.model.dir === undefined) throw new EnricherError('CONFIG_INVALID', 'model.dir (MODEL_DIR) is required');
  const engine = await GlinerEngine.load(config.model.dir, engineOptions(config));
  logger.info({ model: engine.model }, 'model loaded');
  return engine;
}
