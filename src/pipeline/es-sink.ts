import { readFileSync } from 'node:fs';
import { Client, errors, type ClientOptions } from '@elastic/elasticsearch';
import type { Config } from '../config.js';
import { EnricherError, isEnricherError } from '../errors.js';
import type { Logger } from '../logger.js';
import { retry, type BackoffOptions } from '../retry.js';
import { chunkRecords } from './records.js';
import { classifyBulkItem } from './es-items.js';
import type { HealthState } from './health.js';
import type { PipelineMetrics } from './metrics.js';

/** The index template shipped with the package. */
export const BUNDLED_TEMPLATE = new URL('../../deploy/elasticsearch/index-template.json', import.meta.url);

/** An index template as read from its file (`version` decides whether to reinstall it). */
export type IndexTemplate = Record<string, unknown> & { version?: number };

/**
 * Reads the index template (the bundled one when `file` is unset). A missing or malformed
 * file is a configuration error: checked at start-up, before the service opens its port.
 */
export function readIndexTemplate(file?: string): IndexTemplate {
  const where = file ?? 'the bundled index template';
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file ?? BUNDLED_TEMPLATE, 'utf8'));
  } catch (err) {
    throw new EnricherError('CONFIG_INVALID', `cannot read ELASTICSEARCH_TEMPLATE_FILE ${where}: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EnricherError('CONFIG_INVALID', `ELASTICSEARCH_TEMPLATE_FILE ${where} must hold a JSON object (an index template)`);
  }
  return value as IndexTemplate;
}

/** A property of the template's `enrichment` object (e.g. `backend`), when it has one. */
function enrichmentProperty(template: IndexTemplate, name: string): Record<string, unknown> | undefined {
  const enrichment = templateProperty(template, 'enrichment') as { properties?: Record<string, Record<string, unknown>> } | undefined;
  return enrichment?.properties?.[name];
}

/** A property of the template's mappings (e.g. `relations`), when it has one. */
function templateProperty(template: IndexTemplate, name: string): Record<string, unknown> | undefined {
  const props = (template as { template?: { mappings?: { properties?: Record<string, Record<string, unknown>> } } }).template?.mappings?.properties;
  return props?.[name];
}

/** One document of a bulk: the article id, its external version and its JSON. */
export interface EsDocument {
  readonly id: string;
  readonly version: number;
  readonly json: string;
  /** UTF-8 bytes of `json` (for splitting bulks). */
  readonly bytes: number;
}

export type EsDocumentResult =
  | { readonly kind: 'indexed' }
  | { readonly kind: 'superseded' }
  | { readonly kind: 'rejected'; readonly error: EnricherError };

/** Elasticsearch client from the configuration: API key or basic auth, TLS with a CA file. */
export function createEsClient(es: Readonly<Config['elasticsearch']>): Client {
  const options: ClientOptions = {
    node: es.url,
    requestTimeout: es.requestTimeoutMs,
    // Retries are ours (backoff, jitter, abortable, classified per item).
    maxRetries: 0,
    sniffOnStart: false,
  };
  if (es.apiKey !== undefined) options.auth = { apiKey: es.apiKey };
  else if (es.username !== undefined) options.auth = { username: es.username, password: es.password ?? '' };
  if (es.caFile !== undefined) {
    try {
      options.tls = { ca: readFileSync(es.caFile), rejectUnauthorized: true };
    } catch (err) {
      throw new EnricherError('CONFIG_INVALID', `cannot read ELASTICSEARCH_CA_FILE ${es.caFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  return new Client(options);
}

/**
 * Classifies an error thrown by a whole request. Connection problems, timeouts, 429 and
 * 5xx are retriable (ES_UNAVAILABLE); so are 401/403 (a credential being rotated) — the
 * service stays unready rather than dead-lettering. Aborts pass through.
 */
export function classifyRequestError(err: unknown): EnricherError {
  if (isEnricherError(err)) return err;
  if (err instanceof errors.RequestAbortedError) return new EnricherError('ABORTED', 'Elasticsearch request aborted', { cause: err });
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const message = `Elasticsearch answered ${status}: ${err.message}`;
    return new EnricherError('ES_UNAVAILABLE', message, { cause: err, context: { status } });
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new EnricherError('ES_UNAVAILABLE', `Elasticsearch unreachable (${message})`, { cause: err });
}

export interface EsSinkOptions {
  readonly index: string;
  readonly refresh: 'false' | 'true' | 'wait_for';
  readonly bulkMaxBytes: number;
  readonly backoff: BackoffOptions;
  readonly installTemplate: boolean;
  readonly templateFile?: string | undefined;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly health: HealthState;
}

/** Writes enriched articles to Elasticsearch: template at start, one bulk per sink round. */
export class EsSink {
  private readonly log: Logger;
  /** A bulk is being retried: the probe must not report healthy over it. */
  private writesFailing = false;

  constructor(
    readonly client: Client,
    private readonly options: EsSinkOptions,
  ) {
    this.log = options.logger.child({ component: 'es-sink' });
  }

  /**
   * Installs the index template (when the stored one is missing or older), creates the index
   * so the mapping applies before the first write, and checks the mapping is one we can write.
   * Retries while Elasticsearch is unreachable; refusals (auth, invalid template) fail start-up.
   */
  async setup(signal: AbortSignal): Promise<void> {
    await this.withRetry('setup', signal, async () => {
      if (this.options.installTemplate) await this.installTemplate();
      await this.ensureIndex();
    });
    this.options.health.set('elasticsearch', true);
  }

  private async installTemplate(): Promise<void> {
    const { index, templateFile } = this.options;
    const template = readIndexTemplate(templateFile);
    const version = typeof template.version === 'number' ? template.version : 0;
    const existing = await this.call(() => this.client.indices.getIndexTemplate({ name: index }, { ignore: [404] }));
    const stored = existing.index_templates?.find((t) => t.name === index)?.index_template.version ?? -1;
    if (stored >= version) {
      this.log.info({ template: index, version: stored }, 'index template up to date');
      return;
    }
    const body = { ...template, index_patterns: [index, `${index}-*`] };
    await this.call(() => this.client.indices.putIndexTemplate({ name: index, ...(body as object) }), 'ES_SETUP_FAILED');
    this.log.info({ template: index, version, previous: stored < 0 ? null : stored }, 'index template installed');
  }

  private async ensureIndex(): Promise<void> {
    const { index } = this.options;
    const exists = await this.call(() => this.client.indices.exists({ index }));
    if (!exists) {
      const created = await this.call(
        () => this.client.indices.create({ index }, { ignore: [400] }) as Promise<{ error?: { type?: string } }>,
        'ES_SETUP_FAILED',
      );
      if (created.error !== undefined && created.error.type !== 'resource_already_exists_exception') {
        throw new EnricherError('ES_SETUP_FAILED', `cannot create index ${index}: ${JSON.stringify(created.error)}`);
      }
      if (created.error === undefined) this.log.info({ index }, 'index created');
    }
    const mapping = await this.call(() => this.client.indices.getMapping({ index }));
    const template = this.options.installTemplate ? readIndexTemplate(this.options.templateFile) : undefined;
    const relations = template ? templateProperty(template, 'relations') : undefined;
    const backend = template ? enrichmentProperty(template, 'backend') : undefined;
    for (const [name, m] of Object.entries(mapping)) {
      for (const field of ['entities', 'relations']) {
        const props = m.mappings.properties?.[field] as { type?: string; properties?: unknown } | undefined;
        // An object field has no `type` but has `properties`: dynamic mapping made it a plain object.
        const type = props?.type ?? (props?.properties !== undefined ? 'object' : undefined);
        if (type !== undefined && type !== 'nested') {
          throw new EnricherError(
            'ES_MAPPING_CONFLICT',
            `index ${name} maps "${field}" as ${type}, not nested; reindex it or choose another ELASTICSEARCH_INDEX`,
          );
        }
      }
      if (relations !== undefined && m.mappings.properties?.['relations'] === undefined) {
        // An index made from the version-1 template: add the nested mapping before the first
        // relation arrives (allowed while the field is absent), or dynamic mapping would make it an object.
        await this.call(() => this.client.indices.putMapping({ index: name, properties: { relations } as never }), 'ES_SETUP_FAILED');
        this.log.info({ index: name }, 'added the nested relations mapping to an existing index');
      }
      const enrichment = m.mappings.properties?.['enrichment'] as { properties?: Record<string, unknown> } | undefined;
      if (backend !== undefined && enrichment?.properties !== undefined && enrichment.properties['backend'] === undefined) {
        // An index made from a template before version 3: map `enrichment.backend` as a keyword
        // before the first article brings it (dynamic mapping would make it text).
        await this.call(() => this.client.indices.putMapping({ index: name, properties: { enrichment: { properties: { backend } } } as never }), 'ES_SETUP_FAILED');
        this.log.info({ index: name }, 'added the enrichment.backend mapping to an existing index');
      }
    }
  }

  /** Runs a request, mapping refusals (4xx other than 429/401/403) to `refusal` and the rest through classifyRequestError. */
  private async call<T>(fn: () => Promise<T>, refusal: 'ES_SETUP_FAILED' | 'ES_UNAVAILABLE' = 'ES_UNAVAILABLE'): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof errors.ResponseError) {
        const s = err.statusCode ?? 0;
        if (refusal === 'ES_SETUP_FAILED' && s >= 400 && s < 500 && s !== 429 && s !== 408) {
          throw new EnricherError('ES_SETUP_FAILED', `Elasticsearch refused: ${s} ${err.message}`, { cause: err });
        }
      }
      throw classifyRequestError(err);
    }
  }

  private withRetry<T>(stage: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return retry(() => fn(), {
      ...this.options.backoff,
      signal,
      onRetry: (err, attempt, delayMs) => this.onFailure(stage, err, attempt, delayMs),
    });
  }

  private onFailure(stage: string, err: unknown, attempt: number, delayMs: number): void {
    const e = isEnricherError(err) ? err : classifyRequestError(err);
    if (stage === 'bulk') this.writesFailing = true;
    this.options.metrics.retries.inc({ stage: `es-${stage}`, code: e.code });
    if (this.options.health.set('elasticsearch', false, e.message)) this.log.error({ err: e, code: e.code }, 'Elasticsearch unavailable; pausing until it is back');
    else this.log.warn({ code: e.code, message: e.message, attempt, retryInMs: delayMs }, 'Elasticsearch still unavailable');
  }

  /**
   * Indexes documents (bulk requests of at most `bulkMaxBytes`), retrying transient failures
   * of the request or of single items until they succeed or `signal` aborts. Returns one
   * result per document, in order; documents refused by Elasticsearch come back `rejected`.
   */
  async write(docs: readonly EsDocument[], signal: AbortSignal): Promise<EsDocumentResult[]> {
    const results = new Map<EsDocument, EsDocumentResult>();
    for (const chunk of chunkRecords(docs.map((d) => ({ doc: d, bytes: d.bytes + 160 })), this.options.bulkMaxBytes)) {
      await this.writeChunk(
        chunk.map((c) => c.doc),
        results,
        signal,
      );
    }
    return docs.map((d) => results.get(d)!);
  }

  private async writeChunk(docs: readonly EsDocument[], results: Map<EsDocument, EsDocumentResult>, signal: AbortSignal): Promise<void> {
    let pending = docs;
    let refused: { status: number; message: string } | undefined;
    await retry(
      async () => {
        let retryable: EsDocument[];
        try {
          retryable = await this.bulkOnce(pending, results, signal);
        } catch (err) {
          // A whole request refused as invalid (400, 413): some document in it is the cause.
          const status = err instanceof EnricherError ? Number(err.context['status'] ?? 0) : 0;
          if (status === 400 || status === 413) {
            refused = { status, message: err instanceof Error ? err.message : String(err) };
            return;
          }
          throw err;
        }
        if (retryable.length > 0) {
          pending = retryable;
          throw new EnricherError('ES_UNAVAILABLE', `${retryable.length} of ${docs.length} document(s) need a retry`);
        }
      },
      {
        ...this.options.backoff,
        signal,
        onRetry: (err, attempt, delayMs) => this.onFailure('bulk', err, attempt, delayMs),
      },
    );
    if (refused !== undefined) {
      // Bisect until the refused document is alone, then reject it (dead-letter) and keep the rest.
      if (pending.length === 1) {
        const doc = pending[0]!;
        results.set(doc, {
          kind: 'rejected',
          error: new EnricherError('ES_DOCUMENT_REJECTED', `Elasticsearch refused the request: ${refused.message}`, { context: { articleId: doc.id, status: refused.status } }),
        });
      } else {
        const mid = Math.ceil(pending.length / 2);
        await this.writeChunk(pending.slice(0, mid), results, signal);
        await this.writeChunk(pending.slice(mid), results, signal);
      }
      return;
    }
    this.writesFailing = false;
    if (this.options.health.set('elasticsearch', true)) this.log.info('Elasticsearch reachable again');
  }

  /** One bulk request; records final results and returns the documents to retry. */
  private async bulkOnce(docs: readonly EsDocument[], results: Map<EsDocument, EsDocumentResult>, signal: AbortSignal): Promise<EsDocument[]> {
    const { index, refresh, metrics } = this.options;
    const operations: Array<Record<string, unknown> | string> = [];
    for (const d of docs) {
      operations.push({ index: { _index: index, _id: d.id, version: d.version, version_type: 'external' } });
      operations.push(d.json);
    }
    const end = metrics.esBulkSeconds.startTimer();
    let response;
    try {
      response = await this.client.bulk(
        { operations: operations as never, ...(refresh === 'false' ? {} : { refresh: refresh === 'true' ? true : 'wait_for' }) },
        { signal },
      );
    } catch (err) {
      metrics.esBulkFailures.inc({ reason: 'request' });
      throw classifyRequestError(err);
    } finally {
      end();
    }
    const retryable: EsDocument[] = [];
    response.items.forEach((item, i) => {
      const doc = docs[i]!;
      const result = item.index ?? Object.values(item)[0];
      const outcome = classifyBulkItem(result ?? { status: 500, error: { type: 'missing_item' } });
      switch (outcome.kind) {
        case 'indexed':
        case 'superseded':
          results.set(doc, { kind: outcome.kind });
          break;
        case 'retry':
          metrics.esBulkFailures.inc({ reason: 'retry' });
          retryable.push(doc);
          break;
        case 'reject':
          metrics.esBulkFailures.inc({ reason: 'reject' });
          results.set(doc, {
            kind: 'rejected',
            error: new EnricherError('ES_DOCUMENT_REJECTED', `Elasticsearch refused the document: ${outcome.reason}`, {
              context: { articleId: doc.id, status: outcome.status },
            }),
          });
          break;
      }
    });
    if (retryable.length > 0) {
      const first = response.items.map((it) => it.index).find((r) => r !== undefined && classifyBulkItem(r).kind === 'retry');
      this.log.warn({ retry: retryable.length, of: docs.length, example: first?.error }, 'bulk items to retry');
    }
    return retryable;
  }

  /**
   * Reachability probe for readiness between writes (the test distribution has no HEAD /).
   * Any answer below 500 other than 429 counts as reachable — an API key allowed to write may
   * not be allowed to read cluster health. It never reports healthy while a bulk is failing.
   */
  async probe(signal?: AbortSignal): Promise<boolean> {
    let reachable: boolean;
    let detail = '';
    try {
      await this.client.cluster.health({ timeout: '1s' }, { requestTimeout: 3000, ...(signal ? { signal } : {}) });
      reachable = true;
    } catch (err) {
      const status = err instanceof errors.ResponseError ? (err.statusCode ?? 0) : 0;
      reachable = status > 0 && status < 500 && status !== 429;
      detail = classifyRequestError(err).message;
    }
    if (!reachable) this.options.health.set('elasticsearch', false, detail);
    else if (!this.writesFailing && this.options.health.set('elasticsearch', true)) this.log.info('Elasticsearch reachable again');
    return reachable;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
