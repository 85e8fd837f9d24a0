/**
 * Error catalog. Every failure the enricher reports carries a stable `code`
 * (never match on messages), a `retriable` flag that drives the fate of the
 * message (retry later vs dead-letter vs stop), and structured context.
 */

export interface ErrorSpec {
  /** Whether retrying the same operation later can succeed. */
  readonly retriable: boolean;
  /** One line for operators; shown in README's error table. */
  readonly description: string;
}

/** The catalog. Codes are stable: add new ones, never rename. */
export const ERROR_CATALOG = {
  // Configuration and start-up
  CONFIG_INVALID: { retriable: false, description: 'Configuration failed validation (env, file or CLI flags).' },
  MODEL_FILE_MISSING: { retriable: false, description: 'A required file of the model folder is missing.' },
  MODEL_CONFIG_INVALID: { retriable: false, description: "The model folder's config (gliner_config.json, or config.json of a GNER model) is unreadable or has invalid values." },
  MODEL_UNSUPPORTED: {
    retriable: false,
    description: 'The model is a GLiNER variant this engine does not run (bi-encoder, relex, decoder, other splitter), or a GNER folder that is not a T5 model.',
  },
  TOKENIZER_MISMATCH: {
    retriable: false,
    description: 'The tokenizer disagrees with gliner_config.json (e.g. <<ENT>> id differs from class_token_index).',
  },
  EXECUTION_PROVIDER_UNAVAILABLE: {
    retriable: false,
    description: 'The configured ONNX Runtime execution provider is unknown or cannot be loaded (no silent fallback).',
  },
  SESSION_CREATE_FAILED: { retriable: false, description: 'ONNX Runtime could not create an inference session.' },
  // Per-request input problems (dead-letter material)
  LABELS_INVALID: {
    retriable: false,
    description: 'Entity label list is empty, too long, or a label is blank or contains a prompt token.',
  },
  OPTIONS_INVALID: {
    retriable: false,
    description: 'Inference options are out of range (threshold, window sizes); they come from the configuration, so the service stops.',
  },
  MESSAGE_INVALID_JSON: { retriable: false, description: 'Message value is not valid UTF-8 JSON.' },
  MESSAGE_INVALID_UTF8: { retriable: false, description: 'Message value is not valid UTF-8.' },
  MESSAGE_SCHEMA: { retriable: false, description: 'Message does not match the input article schema.' },
  MESSAGE_TOO_LARGE: { retriable: false, description: 'Message body exceeds the configured maximum size.' },
  MESSAGE_NO_ID: { retriable: false, description: 'Message has neither an `id` field nor a Kafka key.' },
  MESSAGE_TOO_DEEP: { retriable: false, description: 'Message JSON nests objects or arrays more than 64 levels deep.' },
  LABEL_CONFIG_INVALID: { retriable: false, description: 'A Label Studio labeling config is malformed or has no <Labels> tag labelling a <Text> tag.' },
  REQUEST_INVALID: {
    retriable: false,
    description: 'An HTTP request to the Label Studio backend is not JSON or does not match its endpoint (answered 400).',
  },
  REQUEST_UNAUTHORIZED: { retriable: false, description: 'An HTTP request to the Label Studio backend lacks the configured basic-auth credentials (401).' },
  // Inference
  INFERENCE_FAILED: { retriable: false, description: 'ONNX Runtime failed while running a batch.' },
  OUTPUT_SHAPE: { retriable: false, description: 'The model returned logits of an unexpected shape or type.' },
  WORKER_CRASHED: { retriable: true, description: 'An inference worker thread exited; its work is retried on a new worker.' },
  WORKER_INIT_FAILED: { retriable: false, description: 'An inference worker failed to load the model.' },
  POOL_CLOSED: { retriable: true, description: 'Work was submitted to, or pending in, a closed inference pool.' },
  // Sinks and brokers
  ES_UNAVAILABLE: { retriable: true, description: 'Elasticsearch is unreachable or overloaded (connection, 429, 5xx).' },
  ES_DOCUMENT_REJECTED: { retriable: false, description: 'Elasticsearch rejected a document (mapping or 4xx error).' },
  ES_MAPPING_CONFLICT: {
    retriable: false,
    description: 'The target index exists with a mapping the enricher cannot write to (e.g. `entities` is not nested).',
  },
  ES_SETUP_FAILED: {
    retriable: false,
    description: 'Installing the index template or creating the index was refused (authentication, permissions, invalid template).',
  },
  KAFKA_UNAVAILABLE: { retriable: true, description: 'Kafka brokers are unreachable (connect, metadata, committed offsets).' },
  KAFKA_PRODUCE_FAILED: { retriable: true, description: 'Producing to the output or dead-letter topic failed.' },
  KAFKA_COMMIT_FAILED: { retriable: true, description: 'Committing consumer offsets failed.' },
  KAFKA_PRODUCER_FENCED: {
    retriable: false,
    description: "Exactly-once mode: another instance took over a partition's transactional id; this instance drops that partition's work.",
  },
  KAFKA_CONSUMER_CRASHED: {
    retriable: false,
    description: 'The Kafka consumer stopped with a non-retriable error; the service exits non-zero so it is restarted.',
  },
  OUTPUT_TOO_LARGE: {
    retriable: false,
    description: 'The enriched record is larger than kafka.maxMessageBytes; the original message is dead-lettered.',
  },
  OUTPUT_INVALID: {
    retriable: false,
    description: 'The enriched article could not be built or serialised from this message; the original message is dead-lettered.',
  },
  LABEL_STUDIO_UNAVAILABLE: {
    retriable: true,
    description: 'Label Studio could not be reached or refused the backend’s API call (exporting annotated tasks for training).',
  },
  TRAINING_FAILED: {
    retriable: false,
    description: 'A fine-tuning round failed (training or export exited non-zero, or the new model failed its probe); the served model stays.',
  },
  SHUTDOWN_TIMEOUT: { retriable: false, description: 'Graceful shutdown exceeded the grace period.' },
  ABORTED: { retriable: true, description: 'The operation was aborted (shutdown or timeout).' },
  INTERNAL: { retriable: false, description: 'An unexpected error (a bug): reported with its stack; the service stops.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Where in the stream an error happened, when it is about one message. */
export interface ErrorContext {
  topic?: string;
  partition?: number;
  offset?: string;
  articleId?: string;
  [key: string]: unknown;
}

/** The one error type of the project. */
export class EnricherError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnricherError';
    this.code = code;
    this.retriable = ERROR_CATALOG[code].retriable;
    this.context = options.context ?? {};
  }

  /** A JSON-friendly view for logs, DLQ headers and CLI error records. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retriable: this.retriable, ...this.context };
  }
}

/** The same error with more context (where in the stream it happened); the original is its cause. */
export function withContext(err: EnricherError, context: ErrorContext): EnricherError {
  const out = new EnricherError(err.code, err.message, { cause: err.cause ?? err, context: { ...context, ...err.context } });
  out.stack = err.stack;
  return out;
}

/** Type guard that also narrows on an optional code. */
export function isEnricherError(err: unknown, code?: ErrorCode): err is EnricherError {
  return err instanceof EnricherError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into an EnricherError with the given code, keeping the cause. */
export function toEnricherError(err: unknown, code: ErrorCode, context?: ErrorContext): EnricherError {
  if (err instanceof EnricherError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EnricherError(code, message, { cause: err, ...(context ? { context } : {}) });
}
