/** Settings the Kafka service refuses at start-up, before it opens a port or connects anywhere. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config-load.js';
import { createLogger } from '../../../src/logger.js';
import { EnricherService } from '../../../src/pipeline/service.js';

describe('EnricherService start-up refusals', () => {
  it('refuses INFERENCE_WORKERS=0: inference on the main thread would stall heartbeats and probes', async () => {
    const config = loadConfig({ env: { MODEL_DIR: 'models/gliner-news-minilm-l6', INFERENCE_WORKERS: '0', HTTP_PORT: '0' } });
    const started = EnricherService.start({ config, logger: createLogger('silent') });
    await expect(started).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('INFERENCE_WORKERS') });
  });
});
