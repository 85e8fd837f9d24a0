import { EnricherError, toEnricherError, type ErrorCode } from '../errors.js';

/**
 * What happens to a message whose processing failed, decided in one place:
 * - `dead`: the message itself is the problem; it goes to the dead-letter topic and its
 *   offset moves on.
 * - `retry`: a transient problem (a worker crashed, a sink is down); try again later,
 *   never commit past it.
 * - `abandon`: the work was stopped on purpose (shutdown, partition revoked); it is neither
 *   done nor dead, so its offset is not committed and another run picks it up.
 * - `fatal`: the service cannot process anything (model, configuration); stop without
 *   committing, so the orchestrator restarts it and an operator can look.
 */
export type Fate =
  | { readonly kind: 'dead'; readonly error: EnricherError }
  | { readonly kind: 'retry'; readonly error: EnricherError }
  | { readonly kind: 'abandon'; readonly error: EnricherError }
  | { readonly kind: 'fatal'; readonly error: EnricherError };

/**
 * Codes that describe one message (or its output), never the service. `LABELS_INVALID` is
 * here because a message may bring its own labels (the configured ones are checked at
 * start-up); `OPTIONS_INVALID` is not: inference options come only from the configuration,
 * so dead-lettering on it would empty the topic into the DLQ for one setting.
 */
export const PER_MESSAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MESSAGE_INVALID_JSON',
  'MESSAGE_INVALID_UTF8',
  'MESSAGE_SCHEMA',
  'MESSAGE_TOO_LARGE',
  'MESSAGE_TOO_DEEP',
  'MESSAGE_NO_ID',
  'LABELS_INVALID',
  'INFERENCE_FAILED',
  'OUTPUT_TOO_LARGE',
  'OUTPUT_INVALID',
  'ES_DOCUMENT_REJECTED',
]);

/**
 * Retries granted to a per-message code before it is dead-lettered. An ONNX Runtime failure
 * may be transient (e.g. device memory pressure from a neighbouring batch), so it is retried
 * a little before the article is blamed.
 */
export const RETRIES_BEFORE_DEAD: Readonly<Partial<Record<ErrorCode, number>>> = { INFERENCE_FAILED: 2 };

/**
 * Decides the fate of a failed message. `attempt` counts earlier failed attempts (0 on the
 * first failure). Errors that are not EnricherErrors are wrapped as `fallback`.
 */
export function classifyFailure(err: unknown, attempt: number, fallback: ErrorCode = 'INFERENCE_FAILED'): Fate {
  const error = toEnricherError(err, fallback);
  if (error.code === 'ABORTED') return { kind: 'abandon', error };
  if (PER_MESSAGE_CODES.has(error.code)) {
    const allowed = RETRIES_BEFORE_DEAD[error.code] ?? 0;
    return attempt < allowed ? { kind: 'retry', error } : { kind: 'dead', error };
  }
  if (error.retriable) return { kind: 'retry', error };
  return { kind: 'fatal', error };
}
