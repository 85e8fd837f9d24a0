import { loadConfig, redactConfig } from '../config-load.js';
import { LabelStudioService } from '../label-studio/service.js';
import { createLogger } from '../logger.js';
import { COMMON_FLAGS, parseFlags, usage, type FlagSpec } from './flags.js';

const FLAGS = {
  ...COMMON_FLAGS,
  port: { type: 'string', path: 'labelStudio.port', help: 'port to listen on (default 9090; 0 = any free port)' },
  'label-map': { type: 'string', path: 'labelStudio.labelMap', help: 'Label value → model prompt, e.g. PER=person,ORG=organization' },
  'models-dir': { type: 'string', path: 'labelStudio.modelsDir', help: 'folder for fine-tuned model folders (one per training round)' },
  'train-init': { type: 'string', path: 'labelStudio.trainInit', help: 'PyTorch GLiNER checkpoint the first round fine-tunes (default <model>/checkpoint)' },
  'train-steps': { type: 'string', path: 'labelStudio.trainSteps', help: 'optimiser steps per training round' },
  help: { type: 'boolean', path: undefined, help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

export const LABEL_STUDIO_USAGE = `news-enricher label-studio --model DIR [options]

A Label Studio ML backend: pre-annotates tasks with the model (POST /predict; long texts in
windows), and fine-tunes it on the project's annotations when Label Studio asks for training
(webhook START_TRAINING, or POST /train), then serves the new model. GET /health shows the
model version and the training state; GET /metrics is Prometheus. Basic auth with
BASIC_AUTH_USER / BASIC_AUTH_PASS; training exports tasks with LABEL_STUDIO_URL and
LABEL_STUDIO_API_KEY. Runs until SIGTERM/SIGINT. README "Label Studio".

${usage(FLAGS)}`;

/** `news-enricher label-studio`: the ML backend, until a signal. */
export async function labelStudioCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.values.help === true) {
    process.stdout.write(`${LABEL_STUDIO_USAGE}\n`);
    return 0;
  }
  const config = loadConfig({ ...(typeof flags.values.config === 'string' ? { file: flags.values.config } : {}), overrides: flags.overrides });
  const logger = createLogger(config.logLevel);
  const log = logger.child({ component: 'label-studio-command' });
  for (const message of flags.deprecated) log.warn(message);
  log.info({ config: redactConfig(config) }, 'configuration');
  const service = await LabelStudioService.start(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  const force = setTimeout(() => process.exit(1), config.shutdownGraceMs + 10_000);
  force.unref();
  await service.close();
  clearTimeout(force);
  log.info('stopped');
  return 0;
}
