import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { EnricherError, isEnricherError } from '../errors.js';
import { startHttpServer, type HttpServer } from '../http/server.js';
import { createExtractor } from '../inference/create-extractor.js';
import type { EntityExtractor } from '../core/extraction.js';
import { preflightGner } from '../gner/gner-preflight.js';
import { preflightModel } from '../inference/model-settings.js';
import type { ModelText } from '../gliner/model-text.js';
import type { Logger } from '../logger.js';
import type { BackoffOptions } from '../retry.js';
import { ENRICHER_VERSION } from '../version.js';
import { Pipeline } from './pipeline.js';
import { createEsClient, EsSink, readIndexTemplate } from './es-sink.js';
import { HealthState } from './health.js';
import { createKafka } from './kafka-client.js';
import { KafkaSink } from './kafka-sink.js';
import { PipelineMetrics } from './metrics.js';
import { Source } from './source.js';

export interface ServiceOptions {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /**
   * The extractor to use instead of `createExtractor(config)` (tests wrap the real one, e.g.
   * to slow it down). The service owns it from then on and closes it.
   */
  readonly extractor?: EntityExtractor;
  /** Collect default process metrics. @defaultValue true */
  readonly processMetrics?: boolean;
}

export interface CloseResult {
  /** Everything admitted was done before the sinks closed. */
  readonly drained: boolean;
  /** The fatal error that stopped the service, if any. */
  readonly error?: EnricherError;
}

/** How often Elasticsearch reachability is probed for readiness while no bulk is failing. */
const PROBE_INTERVAL_MS = 5_000;

/**
 * The streaming service: HTTP probes, extractor, Elasticsearch sink, Kafka sinks, source
 * and pipeline, started in that order and closed in reverse through one memoised `close()`.
 */
export class EnricherService {
  readonly metrics: PipelineMetrics;
  readonly health: HealthState;
  private readonly log: Logger;
  private readonly startAbort = new AbortController();
  private http: HttpServer | undefined;
  private extractor: EntityExtractor | undefined;
  private es: EsSink | undefined;
  private kafkaSink: KafkaSink | undefined;
  private source: Source | undefined;
  private pipeline: Pipeline | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private closing: Promise<CloseResult> | undefined;
  private booting: Promise<void> | undefined;
  private fatal: EnricherError | undefined;
  private readonly fatalListeners = new Set<(e: EnricherError) => void>();

  constructor(private readonly options: ServiceOptions) {
    this.log = options.logger.child({ component: 'service' });
    this.metrics = new PipelineMetrics({ defaultMetrics: options.processMetrics !== false });
    this.health = new HealthState(['model', 'elasticsearch', 'producer', 'kafka', 'running']);
  }

  /** Creates and starts a service (tests); see {@link EnricherService.start}. */
  static async start(options: ServiceOptions): Promise<EnricherService> {
    const service = new EnricherService(options);
    await service.start();
    return service;
  }

  /**
   * Starts everything: first the configuration checks that need the model folder or files
   * (a bad setting fails here, before any port opens), then HTTP (probes answer during
   * start-up), the model,
   * Elasticsearch (retried while unreachable), producers, the consumer. A `close()` during
   * start-up aborts it. On failure, closes what was started and rethrows.
   */
  async start(): Promise<void> {
    this.booting ??= this.boot();
    try {
      await this.booting;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** The bound HTTP port. */
  get port(): number {
    return this.http?.port ?? 0;
  }

  /** Messages in flight (admitted, not done). */
  get inFlight(): number {
    return this.pipeline?.inFlight ?? 0;
  }

  /** Subscribes to the fatal error, if one happens (the caller should then close and exit non-zero). */
  onFatal(listener: (e: EnricherError) => void): void {
    if (this.fatal !== undefined) listener(this.fatal);
    else this.fatalListeners.add(listener);
  }

  private backoff(): BackoffOptions {
    const es = this.options.config.elasticsearch;
    return { baseMs: es.retryBaseMs, maxMs: es.retryMaxMs };
  }

  /**
   * Everything about the configuration that can be wrong, checked before anything opens:
   * the model folder and the settings that depend on it (unless an extractor was given),
   * the CA files (read by the clients built here) and the index template.
   */
  private preflight(): { esClient: Client; kafka: Kafka; modelText: ModelText | undefined } {
    const { config, logger } = this.options;
    let modelText: ModelText | undefined;
    if (this.options.extractor === undefined) {
      // The main thread serves Kafka heartbeats, offset commits and the health probes: inference
      // there (INFERENCE_WORKERS=0, fine for extract) would stall them for a whole batch.
      if (config.inference.workers === 0) {
        throw new EnricherError('CONFIG_INVALID', 'inference.workers (INFERENCE_WORKERS) is 0: the service needs at least 1 worker thread, since inference on its main thread would stall Kafka heartbeats, offset commits and health probes (0 is for extract and the library)');
      }
      if (config.model.backend === 'gner') {
        const { promptTokens, sentenceTokens } = preflightGner(config);
        this.log.info({ backend: 'gner', promptTokens, sentenceTokens }, 'model settings checked');
      } else {
        const checked = preflightModel(config);
        this.log.info({ window: checked.window }, 'model settings checked');
        modelText = checked.modelText;
      }
    }
    if (config.elasticsearch.installTemplate) readIndexTemplate(config.elasticsearch.templateFile);
    return { esClient: createEsClient(config.elasticsearch), kafka: createKafka(config, logger), modelText };
  }

  private async boot(): Promise<void> {
    const { config, logger } = this.options;
    const signal = this.startAbort.signal;
    const { esClient, kafka, modelText } = this.preflight();
    this.http = await startHttpServer({
      port: config.httpPort,
      registry: this.metrics.registry,
      health: this.health,
      backlog: () => this.pipeline?.backlog ?? 0,
      livenessStallMs: config.livenessStallMs,
      logger,
    });

    this.extractor =
      this.options.extractor ??
      (await createExtractor(config, logger, {
        ...(modelText ? { modelText } : {}),
        onBatch: (b) => {
          this.metrics.inferenceBatchItems.observe(b.items);
          this.metrics.onnxRunSeconds.observe(b.runMs / 1000);
        },
      }));
    this.health.set('model', true);
    signal.throwIfAborted();

    const backoff = this.backoff();
    this.es = new EsSink(esClient, {
      index: config.elasticsearch.index,
      refresh: config.elasticsearch.refresh,
      bulkMaxBytes: config.elasticsearch.bulkMaxBytes,
      backoff,
      installTemplate: config.elasticsearch.installTemplate,
      templateFile: config.elasticsearch.templateFile,
      logger,
      metrics: this.metrics,
      health: this.health,
    });
    await this.es.setup(signal);

    this.kafkaSink = new KafkaSink(kafka, {
      exactlyOnce: config.kafka.exactlyOnce,
      groupId: config.kafka.groupId,
      transactionalIdPrefix: config.kafka.transactionalIdPrefix,
      maxMessageBytes: config.kafka.maxMessageBytes,
      backoff,
      logger,
      metrics: this.metrics,
      health: this.health,
    });
    await this.kafkaSink.connect(signal);

    this.source = new Source(kafka, {
      topic: config.kafka.inputTopic,
      groupId: config.kafka.groupId,
      fromBeginning: config.kafka.fromBeginning,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
      backoff,
      logger,
      metrics: this.metrics,
      health: this.health,
    });
    this.pipeline = new Pipeline({
      config,
      extractor: this.extractor,
      es: this.es,
      kafka: this.kafkaSink,
      source: this.source,
      metrics: this.metrics,
      health: this.health,
      logger,
      version: ENRICHER_VERSION,
      backoff,
      onFatal: (e) => this.raiseFatal(e),
    });
    this.pipeline.start();
    await this.source.start(this.pipeline, signal);

    this.probeTimer = setInterval(() => void this.es?.probe(), PROBE_INTERVAL_MS);
    this.probeTimer.unref();
    this.health.set('running', true);
    this.log.info({ port: this.port, model: this.extractor.model.name, exactlyOnce: config.kafka.exactlyOnce }, 'service started');
  }

  private raiseFatal(error: EnricherError): void {
    if (this.fatal !== undefined) return;
    this.fatal = error;
    this.health.set('running', false, `fatal: ${error.code}`);
    for (const l of this.fatalListeners) l(error);
    this.fatalListeners.clear();
  }

  /**
   * Stops in order — stop fetching, drain in-flight work (up to shutdownGraceMs minus a
   * reserve for the rest), flush the sinks, commit, leave the group, close producers, the
   * extractor, Elasticsearch and HTTP — each step on its own so one failure does not skip
   * the rest. Memoised: every call gets the same promise.
   */
  close(): Promise<CloseResult> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<CloseResult> {
    const grace = this.options.config.shutdownGraceMs;
    const reserve = Math.min(5_000, Math.floor(grace / 4));
    this.health.set('running', false, 'shutting down');
    this.startAbort.abort(new EnricherError('ABORTED', 'service closing'));
    // Let an interrupted start-up reach a resting point (its waits are abortable; model loading
    // and a group join are not), so that everything it created is closed below.
    if (this.booting !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.booting.catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(1_000, grace - reserve));
        }),
      ]);
      clearTimeout(timer);
    }
    clearInterval(this.probeTimer);
    let drained = true;
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        if (!isEnricherError(err, 'ABORTED')) this.log.error({ err, step: name }, 'shutdown step failed');
      }
    };
    const pipeline = this.pipeline;
    if (pipeline !== undefined) {
      const t0 = Date.now();
      const fatal = this.fatal;
      if (fatal !== undefined) {
        // Nothing past the failure may be committed, so nothing is drained: say so, as what it
        // is (the fatal error was logged when it happened), not as a shutdown timeout.
        drained = false;
        await step('drain', () => pipeline.drain(0));
        this.log.error(
          { code: fatal.code, inFlight: pipeline.inFlight },
          'stopping after a fatal error: uncommitted messages are processed again after restart',
        );
      } else {
        await step('drain', async () => {
          drained = await pipeline.drain(Math.max(0, grace - reserve));
        });
        if (!drained) {
          this.log.warn({ code: 'SHUTDOWN_TIMEOUT', inFlight: pipeline.inFlight }, 'in-flight work abandoned; it is reprocessed after restart');
        }
      }
      await step('sinks', () => pipeline.stop(!drained));
      await step('commit', () => pipeline.commitAll());
      this.log.info({ drained, ms: Date.now() - t0 }, 'pipeline stopped');
    }
    await step('consumer', async () => this.source?.disconnect());
    await step('producers', async () => this.kafkaSink?.close());
    await step('extractor', async () => this.extractor?.close());
    await step('elasticsearch', async () => this.es?.close());
    await step('http', async () => this.http?.close());
    this.log.info({ drained }, 'service closed');
    return { drained, ...(this.fatal !== undefined ? { error: this.fatal } : {}) };
  }
}
