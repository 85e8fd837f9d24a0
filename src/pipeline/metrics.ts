import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of their own (never the global one, so
 * two services in one process — tests — do not collide). Metrics are separate from logs:
 * components count here and log only what an operator reads.
 */
export class PipelineMetrics {
  readonly registry = new Registry();

  /** Messages taken from the input topic. */
  readonly messagesIn = new Counter({
    name: 'enricher_messages_in_total',
    help: 'Messages admitted from the input topic.',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  /** Articles written to Elasticsearch and the output topic. */
  readonly messagesOut = new Counter({
    name: 'enricher_messages_out_total',
    help: 'Articles enriched and delivered (indexed, and produced when an output topic is set).',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'enricher_messages_dead_lettered_total',
    help: 'Messages sent to the dead-letter topic, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly superseded = new Counter({
    name: 'enricher_es_superseded_total',
    help: 'Documents not written because Elasticsearch already holds a newer version (409 with external versioning).',
    registers: [this.registry],
  });
  readonly unkeyed = new Counter({
    name: 'enricher_messages_key_not_id_total',
    help: 'Messages whose Kafka key is not the article id (ordering across partitions is then not guaranteed).',
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'enricher_retries_total',
    help: 'Retried operations, by stage and error code.',
    labelNames: ['stage', 'code'] as const,
    registers: [this.registry],
  });
  readonly fetchBatchSize = new Histogram({
    name: 'enricher_fetch_batch_messages',
    help: 'Messages per batch delivered by the consumer.',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    registers: [this.registry],
  });
  readonly sinkBatchSize = new Histogram({
    name: 'enricher_sink_batch_articles',
    help: 'Finished messages per sink round (one Elasticsearch bulk and one produce per round).',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  });
  readonly windowsPerArticle = new Histogram({
    name: 'enricher_article_windows',
    help: 'Inference windows per article (all fields).',
    buckets: [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144],
    registers: [this.registry],
  });
  readonly inferenceBatchItems = new Histogram({
    name: 'enricher_inference_batch_windows',
    help: 'Windows per inference batch (the worker pool batches windows of many articles).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  readonly onnxRunSeconds = new Histogram({
    name: 'enricher_onnx_run_seconds',
    help: 'ONNX Runtime time per inference batch (its sum over wall time is how busy the model is).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly inferenceSeconds = new Histogram({
    name: 'enricher_inference_duration_seconds',
    help: 'Time from handing an article to the extractor to its entities.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  /** Where the in-flight count is read at each scrape (set by the pipeline; 0 before). */
  private inFlightSource: () => number = () => 0;
  /**
   * Read live at scrape time, not set at chosen moments: while backpressure holds a fetched
   * batch and the sinks are down, no moment comes where a set value would be refreshed.
   */
  readonly queueDepth = new Gauge({
    name: 'enricher_queue_articles',
    help: 'Articles in flight: admitted and not yet done (decoding, waiting, inferring, or waiting for the sinks).',
    registers: [this.registry],
    collect: () => {
      this.queueDepth.set(this.inFlightSource());
    },
  });

  /** Makes `enricher_queue_articles` report `count()` (the pipeline's messages in flight). */
  trackInFlight(count: () => number): void {
    this.inFlightSource = count;
  }
  readonly consumerLag = new Gauge({
    name: 'enricher_consumer_lag',
    help: 'Per partition: high watermark minus the committable offset (messages not yet done).',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly pausedPartitions = new Gauge({
    name: 'enricher_paused_partitions',
    help: 'Input partitions currently paused (backpressure or exactly-once fencing).',
    registers: [this.registry],
  });
  readonly pauses = new Counter({
    name: 'enricher_backpressure_pauses_total',
    help: 'Times consumption paused because the in-flight queue was full.',
    registers: [this.registry],
  });
  readonly resumes = new Counter({
    name: 'enricher_backpressure_resumes_total',
    help: 'Times consumption resumed after the queue drained below its low-water mark.',
    registers: [this.registry],
  });
  readonly esBulkSeconds = new Histogram({
    name: 'enricher_es_bulk_duration_seconds',
    help: 'Elasticsearch bulk request latency (each attempt).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly esBulkFailures = new Counter({
    name: 'enricher_es_bulk_failures_total',
    help: 'Elasticsearch bulk failures: whole requests (reason=request) or items (reason=retry|reject).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly produceSeconds = new Histogram({
    name: 'enricher_kafka_produce_duration_seconds',
    help: 'Output and dead-letter produce latency per sink round (each attempt; a transaction in exactly-once mode).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly commits = new Counter({
    name: 'enricher_offset_commits_total',
    help: 'Offset commits, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly rebalances = new Counter({
    name: 'enricher_rebalances_total',
    help: 'Group (re)joins, and partitions revoked from this member.',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly lastProgress = new Gauge({
    name: 'enricher_last_progress_timestamp_seconds',
    help: 'When the last sink round finished (Unix time).',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
