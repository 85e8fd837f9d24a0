import { basename } from 'node:path';
import type { Config } from '../config.js';
import { EnricherError } from '../errors.js';
import { createExtractor } from '../inference/create-extractor.js';
import { preflightModel } from '../inference/model-settings.js';
import type { Logger } from '../logger.js';
import { LabelStudioBackend } from './backend.js';
import { LabelStudioClient } from './client.js';
import { startBackendServer, type BackendServer } from './http.js';
import { BackendMetrics } from './metrics.js';
import { ModelSlot, ServedModel } from './served-model.js';
import { TrainingLoop } from './training-loop.js';

/**
 * Assembles `news-enricher label-studio`: the served model, the training loop, the HTTP
 * server. Everything that can be wrong with the settings fails here, before listening.
 * `close()` is ordered and idempotent: stop listening (requests in flight are aborted),
 * stop a training child, close the model.
 */
export class LabelStudioService {
  private constructor(
    readonly backend: LabelStudioBackend,
    readonly training: TrainingLoop,
    private readonly slot: ModelSlot,
    private readonly server: BackendServer,
  ) {}

  get port(): number {
    return this.server.port;
  }

  static async start(config: Readonly<Config>, logger: Logger): Promise<LabelStudioService> {
    const ls = config.labelStudio;
    const loadModel = async (dir: string): Promise<ServedModel> => {
      const c: Readonly<Config> = { ...config, model: { ...config.model, dir, name: config.model.name !== undefined && dir === config.model.dir ? config.model.name : basename(dir) } };
      const { window, modelText } = preflightModel(c);
      return new ServedModel(await createExtractor(c, logger, { modelText }), dir, window);
    };
    if (config.model.dir === undefined) throw new EnricherError('CONFIG_INVALID', 'model.dir (MODEL_DIR, --model) is required: the model folder to serve');
    if (config.model.backend !== 'gliner') {
      throw new EnricherError('CONFIG_INVALID', 'the Label Studio backend serves and fine-tunes GLiNER models: MODEL_BACKEND must be gliner');
    }
    const slot = new ModelSlot(await loadModel(config.model.dir));
    const metrics = new BackendMetrics();
    let training: TrainingLoop | undefined;
    try {
      const client = ls.url !== undefined && ls.apiKey !== undefined ? new LabelStudioClient({ url: ls.url, apiKey: ls.apiKey }) : undefined;
      training = new TrainingLoop({ config, slot, client, loadModel, logger });
      metrics.trackTraining(() => training!.status());
      const backend = new LabelStudioBackend({ config, slot, training, logger });
      const server = await startBackendServer({
        backend,
        port: ls.port,
        basicAuth: ls.basicAuthUser !== undefined && ls.basicAuthPass !== undefined ? { user: ls.basicAuthUser, pass: ls.basicAuthPass } : undefined,
        maxRequestBytes: ls.maxRequestBytes,
        registry: metrics.registry,
        logger,
        onPredict: (s, n, ok) => metrics.observePredict(s, n, ok),
      });
      logger.child({ component: 'label-studio' }).info({ port: server.port, modelVersion: slot.current.version, training: training.status().state }, 'label studio backend started');
      return new LabelStudioService(backend, training, slot, server);
    } catch (err) {
      await training?.close();
      await slot.close();
      throw err;
    }
  }

  private closing: Promise<void> | undefined;

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.server.close();
      await this.training.close();
      await this.slot.close();
    })());
  }
}
