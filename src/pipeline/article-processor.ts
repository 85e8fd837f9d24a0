import { decodeArticle, type Article, type ArticleLimits } from '../article.js';
import type { Config } from '../config.js';
import { buildEnrichedArticle } from '../enriched.js';
import { EnricherError, isEnricherError, toEnricherError, withContext, type ErrorContext } from '../errors.js';
import type { DecodeOptions, WindowOptions } from '../core/types.js';
import type { EntityExtractor, FieldEntities } from '../core/extraction.js';
import type { Relation } from '../core/relations.js';
import { decodeOptions, windowOptions } from '../inference/options.js';
import type { Logger } from '../logger.js';
import { articleRelations, nativeRelationRequest, relationNamesFor } from '../relations/article-relations.js';
import { sleep, type BackoffOptions, backoffDelay } from '../retry.js';
import { classifyFailure, type Fate } from './fate.js';
import type { Limiter } from './limiter.js';
import type { PipelineMetrics } from './metrics.js';
import { fits, outputRecord, type OutRecord } from './records.js';

/** How a message ended, once processing finished (before the sinks). */
export type Outcome =
  | {
      readonly kind: 'enriched';
      readonly id: string;
      /** The enriched article as JSON (ES `_source` and output value). */
      readonly json: string;
      readonly bytes: number;
      /** The output-topic record, built (and size-checked) once; absent without an output topic. */
      readonly record?: OutRecord | undefined;
    }
  | { readonly kind: 'dead'; readonly error: EnricherError; readonly articleId?: string | undefined };

/** What step 2 found for an article. */
interface Extracted {
  results: FieldEntities[];
  relationNames: readonly string[];
  relations: Relation[];
}

/** Longest article id, in UTF-8 bytes (Elasticsearch's `_id` limit). */
export const MAX_ID_BYTES = 512;

/** Thrown when processing stopped for a reason that is not the message's fault. */
export class ProcessingStopped extends Error {
  constructor(readonly fate: Extract<Fate, { kind: 'abandon' | 'fatal' }>) {
    super(fate.error.message, { cause: fate.error });
    this.name = 'ProcessingStopped';
  }
}

export interface ProcessorOptions {
  readonly config: Readonly<Config>;
  readonly extractor: EntityExtractor;
  readonly limiter: Limiter;
  readonly metrics: PipelineMetrics;
  readonly logger: Logger;
  readonly version: string;
  readonly backoff: BackoffOptions;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Labels for an article: its own when allowed and given, else the configured ones. */
export function labelsFor(article: Article, config: Readonly<Config>): readonly string[] {
  return config.inference.allowMessageLabels && article.labels !== undefined ? article.labels : config.inference.labels;
}

/**
 * Turns one message into an outcome: decode and validate, extract entities (bounded
 * concurrency, transient failures retried), build the enriched article. Per-message
 * problems become `dead` outcomes; abandon/fatal fates are thrown as ProcessingStopped.
 */
export class ArticleProcessor {
  private readonly limits: ArticleLimits;
  private readonly decode: DecodeOptions;
  private readonly window: Partial<WindowOptions>;
  private readonly log: Logger;

  constructor(private readonly options: ProcessorOptions) {
    const { config } = options;
    this.limits = { maxBodyBytes: config.maxBodyBytes, maxLabels: config.inference.maxLabelsPerMessage };
    this.decode = decodeOptions(config);
    this.window = windowOptions(config);
    this.log = options.logger.child({ component: 'processor' });
  }

  /**
   * One message to its outcome, in three steps: decode, extract, build. `source` (topic,
   * partition, offset) goes into the context of the errors and retry logs, so a reader can
   * find the message.
   */
  async process(key: Buffer | null, value: Buffer | null, signal: AbortSignal, source: ErrorContext = {}): Promise<Outcome> {
    const decoded = this.decodeMessage(key, value, source);
    if (decoded.kind === 'dead') return decoded;
    const { article, labels } = decoded;
    const where: ErrorContext = { ...source, articleId: article.id };

    const started = performance.now();
    const extracted = await this.extract(article, labels, signal, where);
    if (!extracted.ok) return { kind: 'dead', error: withContext(extracted.error, where), articleId: article.id };
    const durationMs = performance.now() - started;
    this.options.metrics.inferenceSeconds.observe(durationMs / 1000);
    this.options.metrics.windowsPerArticle.observe(extracted.results.reduce((a, r) => a + r.windows, 0));

    return this.build(article, labels, extracted, durationMs, where);
  }

  /** Step 1: the message's bytes to a valid article and its labels; whatever fails here is the message's fault. */
  private decodeMessage(
    key: Buffer | null,
    value: Buffer | null,
    source: ErrorContext,
  ): { kind: 'decoded'; article: Article; labels: readonly string[] } | Extract<Outcome, { kind: 'dead' }> {
    let article: Article;
    try {
      article = decodeArticle(value === null ? null : new Uint8Array(value.buffer, value.byteOffset, value.length), key?.toString('utf8'), this.limits);
    } catch (err) {
      return { kind: 'dead', error: withContext(toEnricherError(err, 'MESSAGE_SCHEMA'), source) };
    }
    const idBytes = Buffer.byteLength(article.id, 'utf8');
    if (idBytes > MAX_ID_BYTES) {
      // Elasticsearch refuses a whole bulk request over one such id, so it never gets there.
      return { kind: 'dead', error: new EnricherError('MESSAGE_SCHEMA', `id is ${idBytes} bytes; ids are limited to ${MAX_ID_BYTES} UTF-8 bytes`, { context: source }) };
    }
    if (key?.toString('utf8') !== article.id) this.options.metrics.unkeyed.inc();
    return { kind: 'decoded', article, labels: labelsFor(article, this.options.config) };
  }

  /** Step 3: the enriched article as JSON and, with an output topic, its size-checked record (built once). */
  private build(article: Article, labels: readonly string[], extracted: Extracted, durationMs: number, where: ErrorContext): Outcome {
    const { extractor, version, config } = this.options;
    let json: string;
    try {
      const enriched = buildEnrichedArticle(article, extracted.results, {
        model: extractor.model,
        labels,
        decode: this.decode,
        relations: { names: extracted.relationNames, threshold: config.inference.relationThreshold, found: extracted.relations },
        durationMs,
        processedAt: new Date(),
        version,
      });
      json = JSON.stringify(enriched);
    } catch (err) {
      // Whatever the message carries that the output cannot (decode bounds the nesting depth;
      // this catches the rest), it is this message's problem, never the service's.
      const error = new EnricherError('OUTPUT_INVALID', `enriched article cannot be serialised: ${describe(err)}`, {
        cause: err,
        context: where,
      });
      return { kind: 'dead', error, articleId: article.id };
    }
    const bytes = Buffer.byteLength(json, 'utf8');
    let record: OutRecord | undefined;
    if (config.kafka.outputTopic !== '') {
      record = outputRecord(article.id, json, extractor.model, version);
      if (!fits(record, config.kafka.maxMessageBytes)) {
        const error = new EnricherError(
          'OUTPUT_TOO_LARGE',
          `enriched record is ${record.bytes} bytes, above kafka.maxMessageBytes ${config.kafka.maxMessageBytes}`,
          { context: where },
        );
        return { kind: 'dead', error, articleId: article.id };
      }
    }
    return { kind: 'enriched', id: article.id, json, bytes, record };
  }

  /**
   * Step 2: entities of every field, then (when the article asks for relations) the relations
   * among them, under the concurrency limit; transient failures retry both with backoff.
   */
  private async extract(
    article: Article,
    labels: readonly string[],
    signal: AbortSignal,
    where: ErrorContext,
  ): Promise<({ ok: true } & Extracted) | { ok: false; error: EnricherError }> {
    const { extractor, limiter, config, metrics, backoff } = this.options;
    // Entities found survive a retry of the relation pass: only what failed is asked again.
    let results: FieldEntities[] | undefined;
    for (let attempt = 0; ; attempt++) {
      let release: (() => void) | undefined;
      try {
        release = await limiter.acquire(signal);
        const relationNames = relationNamesFor(article, config);
        const native = nativeRelationRequest(extractor, relationNames, config);
        results ??= await extractor.extract(
          { fields: article.fields, labels, decode: this.decode, window: this.window, mergeAdjacent: config.inference.mergeAdjacent, ...(native ? { relations: native } : {}) },
          signal,
        );
        const relations = await articleRelations(extractor, article.fields, results, relationNames, config, signal);
        return { ok: true, results, relationNames, relations };
      } catch (err) {
        const aborted = signal.aborted;
        const fate = aborted ? classifyFailure(new EnricherError('ABORTED', 'processing aborted', { cause: err }), attempt) : classifyFailure(err, attempt);
        if (fate.kind === 'dead') return { ok: false, error: fate.error };
        if (fate.kind === 'abandon' || fate.kind === 'fatal') throw new ProcessingStopped({ ...fate, error: withContext(fate.error, where) });
        metrics.retries.inc({ stage: 'inference', code: fate.error.code });
        const delay = backoffDelay(attempt, backoff);
        this.log.warn({ code: fate.error.code, message: fate.error.message, ...where, attempt, retryInMs: delay }, 'inference failed; retrying');
        try {
          await sleep(delay, signal);
        } catch (e) {
          throw new ProcessingStopped({ kind: 'abandon', error: isEnricherError(e) ? e : new EnricherError('ABORTED', 'aborted') });
        }
      } finally {
        release?.();
      }
    }
  }
}
