import { pino, type DestinationStream, type Logger } from 'pino';
import { ENRICHER_VERSION } from './version.js';

export type { Logger } from 'pino';

/** Paths pino masks wherever they appear in a log object. */
const REDACT = [
  '*.password',
  '*.saslPassword',
  '*.apiKey',
  '*.*.password',
  '*.*.saslPassword',
  '*.*.apiKey',
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * The root logger: JSON lines, errors under `err`, secrets redacted. Components take
 * child loggers (`logger.child({ component: 'source' })`). `destination` defaults to
 * stdout; the `extract` CLI logs to stderr because stdout carries its results.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'news-entity-enricher', version: ENRICHER_VERSION },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination(1),
  );
}
