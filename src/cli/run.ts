import { loadConfig, redactConfig } from '../config-load.js';
import { createLogger } from '../logger.js';
import { EnricherService } from '../pipeline/service.js';
import { COMMON_FLAGS, parseFlags, usage, type FlagSpec } from './flags.js';

export const RUN_FLAGS = {
  ...COMMON_FLAGS,
  brokers: { type: 'string', path: 'kafka.brokers', help: 'Kafka bootstrap brokers, comma-separated' },
  group: { type: 'string', path: 'kafka.groupId', help: 'consumer group id' },
  'input-topic': { type: 'string', path: 'kafka.inputTopic', help: 'topic to consume articles from' },
  'output-topic': { type: 'string', path: 'kafka.outputTopic', help: 'topic for enriched articles ("" disables it)' },
  'dlq-topic': { type: 'string', path: 'kafka.dlqTopic', help: 'dead-letter topic' },
  'exactly-once': { type: 'boolean', path: 'kafka.exactlyOnce', help: 'transactions to the output topic with the consumed offsets' },
  'elasticsearch-url': { type: 'string', path: 'elasticsearch.url', help: 'Elasticsearch URL' },
  index: { type: 'string', path: 'elasticsearch.index', help: 'Elasticsearch index (template installed for it)' },
  'http-port': { type: 'string', path: 'httpPort', help: 'port of /healthz, /readyz, /metrics (0 = any free port)' },
  help: { type: 'boolean', path: undefined, help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

export const RUN_USAGE = `news-enricher run --model DIR [options]

Consumes articles from Kafka, enriches them and writes them to Elasticsearch and the output
topic until SIGTERM/SIGINT (graceful: drain, commit, leave the group; a second signal forces
exit). Every option can also come from the environment (README "Configuration").

${usage(RUN_FLAGS)}`;

/** Exit codes of `run`. */
export const RUN_EXIT = { ok: 0, failed: 1, forced: 130 } as const;

/** `news-enricher run`: the streaming service, until a signal or a fatal error. */
export async function runCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, RUN_FLAGS);
  if (flags.values.help === true) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  const config = loadConfig({
    ...(typeof flags.values.config === 'string' ? { file: flags.values.config } : {}),
    overrides: flags.overrides,
  });
  const logger = createLogger(config.logLevel);
  const log = logger.child({ component: 'run' });
  for (const message of flags.deprecated) log.warn(message);
  log.info({ config: redactConfig(config) }, 'configuration');

  const service = new EnricherService({ config, logger });
  let stopRequested = false;
  let forceTimer: NodeJS.Timeout | undefined;
  let requested!: () => void;
  const stopping = new Promise<void>((resolve) => {
    requested = resolve;
  });

  const stop = (reason: string): void => {
    if (stopRequested) return;
    stopRequested = true;
    log.info({ reason, graceMs: config.shutdownGraceMs }, 'stopping');
    // Last resort if a step hangs (e.g. a broker that never answers): the grace period plus slack.
    forceTimer = setTimeout(() => {
      log.error({ code: 'SHUTDOWN_TIMEOUT' }, 'shutdown did not finish in time; exiting');
      process.exit(RUN_EXIT.failed);
    }, config.shutdownGraceMs + 10_000);
    forceTimer.unref();
    requested();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested) {
      log.warn({ signal }, 'second signal: exiting now without finishing in-flight work');
      process.exit(RUN_EXIT.forced);
    }
    stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  service.onFatal((err) => stop(`fatal ${err.code}`));

  // close() aborts a start-up in progress; a signal during start-up is a clean stop.
  void stopping.then(() => service.close());
  try {
    await service.start();
  } catch (err) {
    if (!stopRequested) throw err;
  }
  await stopping;
  const result = await service.close();
  clearTimeout(forceTimer);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  const code = result.error !== undefined || !result.drained ? RUN_EXIT.failed : RUN_EXIT.ok;
  log.info({ exitCode: code, drained: result.drained, error: result.error?.code ?? null }, 'exiting');
  // Client libraries may leave sockets or timers behind; do not let them hold the process.
  setTimeout(() => process.exit(code), 2_000).unref();
  return code;
}
