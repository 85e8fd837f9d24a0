import { pino, type DestinationStream, type Logger } from 'pino';
import { redactDeep, redactUrlCredentials } from './redact.js';
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

/** pino's error serializer, then URL credentials redacted in its message, stack and fields. */
function serializeError(err: Error): Record<string, unknown> {
  return redactDeep({ ...pino.stdSerializers.err(err) });
}

/**
 * The root logger: JSON lines, errors under `err`, secrets redacted (the paths above, and
 * credentials inside URLs in any string, see redact.ts). Components take
 * child loggers (`logger.child({ component: 'source' })`). `destination` defaults to
 * stdout; the `extract` CLI logs to stderr because stdout carries its results.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'news-entity-enricher', version: ENRICHER_VERSION },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: serializeError },
      formatters: { log: (object) => redactDeep(object) },
      hooks: {
        logMethod(args, method) {
          // The message string (and format arguments) may carry a URL too.
          const clean = args.map((a: unknown) => (typeof a === 'string' ? redactUrlCredentials(a) : a)) as typeof args;
          method.apply(this, clean);
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination(1),
  );
}
