import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { Config } from '../config.js';
import { EnricherError } from '../errors.js';
import type { Logger } from '../logger.js';

/** How long one connection attempt to a broker may take. */
export const KAFKA_CONNECT_TIMEOUT_MS = 5_000;

const PINO_TO_KAFKAJS: Readonly<Record<string, logLevel>> = {
  fatal: logLevel.ERROR,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
  trace: logLevel.DEBUG,
  silent: logLevel.NOTHING,
};

/**
 * kafkajs log lines onto our logger (component `kafkajs`). kafkajs logs some retried,
 * expected conditions at ERROR (coordinator loading, rebalance in progress); they are
 * kept at their level but carry the kafkajs namespace so they can be filtered.
 */
function logCreator(logger: Logger) {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry): void => {
      const { message, timestamp: _ts, logger: _l, ...extra } = entry as LogEntry['log'] & { logger?: string };
      const fields = { namespace, ...extra };
      // Our producers retry on their own (backoff, abort, producer reset): this warning is noise.
      if (message.startsWith('Limiting retries for the idempotent producer')) log.debug(fields, message);
      else if (level === logLevel.ERROR) log.error(fields, message);
      else if (level === logLevel.WARN) log.warn(fields, message);
      else if (level === logLevel.INFO) log.info(fields, message);
      else log.debug(fields, message);
    };
}

/** Retries of every request of the client, connecting included. */
const DEFAULT_RETRY: RetryOptions = { initialRetryTime: 200, maxRetryTime: 10_000, retries: 8 };

/**
 * A kafkajs client from the configuration: brokers, TLS (optional CA file), SASL, logs.
 * `retry` replaces the client's retries (e.g. one connection attempt per broker for a
 * reachability check that must answer within the connect timeout).
 */
export function createKafka(config: Readonly<Config>, logger: Logger, clientIdSuffix = '', retry: RetryOptions = DEFAULT_RETRY): Kafka {
  const k = config.kafka;
  const options: KafkaConfig = {
    clientId: `${k.clientId}${clientIdSuffix}`,
    brokers: [...k.brokers],
    logLevel: PINO_TO_KAFKAJS[config.logLevel] ?? logLevel.INFO,
    logCreator: logCreator(logger),
    connectionTimeout: KAFKA_CONNECT_TIMEOUT_MS,
    requestTimeout: 30_000,
    retry,
  };
  if (k.ssl) {
    if (k.sslCaFile !== undefined) {
      try {
        options.ssl = { ca: [readFileSync(k.sslCaFile, 'utf8')], rejectUnauthorized: true };
      } catch (err) {
        throw new EnricherError('CONFIG_INVALID', `cannot read KAFKA_SSL_CA_FILE ${k.sslCaFile}: ${(err as Error).message}`, { cause: err });
      }
    } else {
      options.ssl = true;
    }
  }
  if (k.saslMechanism !== 'none') {
    options.sasl = { mechanism: k.saslMechanism, username: k.saslUsername ?? '', password: k.saslPassword ?? '' } as SASLOptions;
  }
  return new Kafka(options);
}
