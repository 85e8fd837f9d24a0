import { z } from 'zod';
import { DEFAULT_ARTICLE_LIMITS } from './article.js';
import { DEFAULT_BATCH_MAX_TOKENS, DEFAULT_DECODE, DEFAULT_OVERLAP_WORDS } from './core/defaults.js';
import { relationNameProblem } from './core/relations.js';

/**
 * The one configuration schema. Every option and its default lives here; values come
 * from (lowest to highest) defaults, an optional JSON/YAML file, environment variables
 * (`ENV_VARS` in config-load.ts) and CLI flags. Parsed once at start-up, then frozen.
 */

/** Labels used when neither the configuration nor the message names any. */
export const DEFAULT_LABELS = ['person', 'organization', 'location', 'event', 'product', 'date'] as const;

const csv = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
  z.array(z.string().min(1)),
);
const bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return v;
}, z.boolean());
const int = (min: number) => z.coerce.number().int().min(min);
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

const ModelSchema = z
  .object({
    /** Model folder (Hugging Face layout). Required by `run` and `extract`. */
    dir: optionalString,
    /** ONNX variant: fp32, fp16, int8, uint8, quantized, q4, q4f16, bnb4, opt, opt_int8, factored, factored_int8, factored_mixed, or a file name. */
    variant: z.string().min(1).default('fp32'),
    /** Name reported in `enrichment.model`; the folder name when unset. */
    name: optionalString,
    /**
     * Which kind of model `dir` holds: `gliner` (span, token and relation GLiNER models, on ONNX
     * Runtime directly) or `gner` (a generative GNER-T5 seq2seq export, through transformers.js;
     * entities only, slower, for back-fills and evaluation). Reported as `enrichment.backend`.
     */
    backend: z.enum(['gliner', 'gner']).default('gliner'),
  })
  .strict();

/** The GNER backend's prompt budgets and batching (README "GNER backend"). */
const GnerSchema = z
  .object({
    /** Sentence prompts per generate call, within one article. */
    batchSize: int(1).default(4),
    /** Encoder budget per prompt in sub-tokens, `</s>` included (GNER was evaluated with 640). */
    maxSourceTokens: int(64).default(640),
    /** Cap on generated tokens per prompt (GNER: 640); each prompt's own bound is its words with their tags. */
    maxNewTokens: int(8).default(640),
    /** 0 reads one sentence per prompt (as GNER was trained); N packs consecutive sentences up to N words. */
    groupWords: int(0).default(0),
    /** GNER's optional `Dataset: X.` prompt line; none when unset. */
    dataset: optionalString,
  })
  .strict();

const InferenceSchema = z
  .object({
    executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
    cudaDeviceId: int(0).default(0),
    /**
     * Worker threads, each with its own tokenizer and ONNX session. 0 runs inference on the
     * calling thread (one session; tokenization on the event loop): for `extract` and tools.
     */
    workers: int(0).default(1),
    /** ORT intra-op threads per worker; 0 = cores ÷ workers (all cores when workers is 0). */
    intraOpThreads: int(0).default(0),
    interOpThreads: int(1).default(1),
    labels: csv.default([...DEFAULT_LABELS]),
    /** Allow a message's `labels` to override `labels`. */
    allowMessageLabels: bool.default(true),
    maxLabelsPerMessage: int(1).default(DEFAULT_ARTICLE_LIMITS.maxLabels),
    threshold: z.coerce.number().min(0).lt(1).default(DEFAULT_DECODE.threshold),
    flatNer: bool.default(DEFAULT_DECODE.flatNer),
    multiLabel: bool.default(DEFAULT_DECODE.multiLabel),
    /** NuNER Zero's adjacent-entity merge. */
    mergeAdjacent: bool.default(false),
    /**
     * Relation names asked between each article's entities (the multitask prompt, a second model
     * pass per field; README "Relations"). Empty: no relations, no second pass. A message's own
     * `relations` replace them when `allowMessageLabels` is on, bounded by `maxLabelsPerMessage`.
     */
    relations: csv.default([]),
    /** The second pass keeps relations scoring above this. */
    relationThreshold: z.coerce.number().min(0).lt(1).default(0.5),
    /** `<entity> <> <relation>` labels per model pass (more are asked in further passes). */
    relationLabelsPerPass: int(1).default(32),
    /** Words per window; the model's max_len when unset. */
    windowWords: int(1).optional(),
    windowOverlapWords: int(0).default(DEFAULT_OVERLAP_WORDS),
    /** Encoder budget in sub-tokens; the backbone's position limit (512) when unset. */
    windowMaxTokens: int(64).optional(),
    /** Windows per inference batch; when unset, the measured default of the execution provider (`DEFAULT_BATCH_MAX_ITEMS`: 1 on cpu, 32 on cuda). */
    batchMaxItems: int(1).optional(),
    /** Let ONNX Runtime's intra-op threads spin-wait between runs (see BENCHMARKS.md). */
    ortAllowSpinning: bool.default(true),
    /** ONNX Runtime graph optimisation; `extended` gives the same logits as `all`, faster on CPU. */
    ortGraphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('extended'),
    batchMaxTokens: int(64).default(DEFAULT_BATCH_MAX_TOKENS),
    batchMaxWaitMs: int(0).default(5),
    /**
     * Articles the service hands to the extractor at once (the rest of the queue waits for a
     * slot); 0 = workers × batchMaxItems × 2, at least 4, so the batcher always has work.
     */
    concurrency: int(0).default(0),
  })
  .strict();

const KafkaSchema = z
  .object({
    brokers: csv.default(['127.0.0.1:9092']),
    clientId: z.string().min(1).default('news-entity-enricher'),
    groupId: z.string().min(1).default('news-entity-enricher'),
    inputTopic: z.string().min(1).default('news.articles'),
    /** Output topic; empty disables the output sink. */
    outputTopic: z.string().default('news.articles.enriched'),
    dlqTopic: z.string().min(1).default('news.articles.dlq'),
    fromBeginning: bool.default(true),
    /** Transactions to the output topic with the consumed offsets (exactly-once). */
    exactlyOnce: bool.default(false),
    transactionalIdPrefix: z.string().min(1).default('news-entity-enricher'),
    sessionTimeoutMs: int(6000).default(30_000),
    heartbeatIntervalMs: int(100).default(3000),
    /**
     * Largest record the service produces (output and dead-letter topics); set it to the
     * topics' `max.message.bytes`. Larger enriched records are dead-lettered (OUTPUT_TOO_LARGE);
     * larger dead-letter values are truncated (header `x-value-truncated`). Sends are split so no
     * produce request carries more than this per call.
     */
    maxMessageBytes: int(1024).default(1_000_000),
    ssl: bool.default(false),
    sslCaFile: optionalString,
    saslMechanism: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'),
    saslUsername: optionalString,
    saslPassword: optionalString,
  })
  .strict();

const ElasticsearchSchema = z
  .object({
    url: z.string().url().default('http://127.0.0.1:9200'),
    index: z.string().min(1).default('news-articles'),
    /** Install the index template at start-up (idempotent). */
    installTemplate: bool.default(true),
    refresh: z.enum(['false', 'true', 'wait_for']).default('false'),
    apiKey: optionalString,
    username: optionalString,
    password: optionalString,
    caFile: optionalString,
    requestTimeoutMs: int(1000).default(30_000),
    retryBaseMs: int(1).default(200),
    retryMaxMs: int(1).default(30_000),
    /** Bulk requests are split above this many bytes. */
    bulkMaxBytes: int(1024).default(10 * 1024 * 1024),
    /**
     * Documents are written with `version_type: external`, version = epoch × 2^44 + offset + 1,
     * so a later message for an id wins. Raise the epoch (0–511) to re-enrich a topic from the
     * start over documents written by an earlier run.
     */
    versionEpoch: int(0).max(511).default(0),
    /** Index template JSON; the bundled deploy/elasticsearch/index-template.json when unset. */
    templateFile: optionalString,
  })
  .strict();

/** `PER=person,ORG=organization` (or a mapping in a config file): Label value → model prompt. */
export const labelMapSchema = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const map: Record<string, string> = {};
    for (const pair of v.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const eq = pair.indexOf('=');
      // A malformed entry is left for the record check below to refuse, named.
      if (eq <= 0 || eq === pair.length - 1) return { [pair]: '' };
      map[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    return map;
  },
  z.record(z.string().min(1), z.string().trim().min(1, 'each entry is VALUE=prompt, both non-empty')),
);

const LabelStudioSchema = z
  .object({
    /** Port of `news-enricher label-studio` (9090, Label Studio's usual ML backend port; 0 = any free port). */
    port: int(0).default(9090),
    /** HTTP basic auth Label Studio must send (set both, or neither for none). */
    basicAuthUser: optionalString,
    basicAuthPass: optionalString,
    /** Label Studio's URL, for exporting annotated tasks when training. */
    url: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),
    /** Label Studio API key: a legacy token, or a personal access token (a JWT refresh token). */
    apiKey: optionalString,
    /** Label value → model prompt; values not listed are their own prompt. */
    labelMap: labelMapSchema.default({}),
    /** Tasks accepted in one /predict request. */
    maxTasks: int(1).default(100),
    /** Largest request body, in bytes. */
    maxRequestBytes: int(1024).default(64 * 1024 * 1024),
    /** Folder for fine-tuned model folders (one versioned folder per training round). */
    modelsDir: z.string().min(1).default('models/build/label-studio'),
    /** GLiNER PyTorch checkpoint the first round fine-tunes; `<model dir>/checkpoint` when unset. */
    trainInit: optionalString,
    /** Optimiser steps per round. */
    trainSteps: int(1).default(300),
    /** Annotated tasks a round needs before it starts. */
    trainMinTasks: int(1).default(1),
    /** Python with the reference stack (models/setup.sh). */
    python: z.string().min(1).default('models/.venv/bin/python'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    model: ModelSchema.default(ModelSchema.parse({})),
    inference: InferenceSchema.default(InferenceSchema.parse({})),
    kafka: KafkaSchema.default(KafkaSchema.parse({})),
    elasticsearch: ElasticsearchSchema.default(ElasticsearchSchema.parse({})),
    labelStudio: LabelStudioSchema.default(LabelStudioSchema.parse({})),
    gner: GnerSchema.default(GnerSchema.parse({})),
    /** Largest body accepted, in UTF-8 bytes. */
    maxBodyBytes: int(1).default(DEFAULT_ARTICLE_LIMITS.maxBodyBytes),
    /** Articles in flight (queued or inferring) before consumption pauses. */
    queueMaxArticles: int(1).default(256),
    shutdownGraceMs: int(0).default(30_000),
    httpPort: int(0).default(8080),
    /** /healthz fails when work is pending, sinks are reachable, and nothing finished for this long. */
    livenessStallMs: int(1000).default(300_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.kafka.heartbeatIntervalMs * 3 > c.kafka.sessionTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'heartbeatIntervalMs'],
        message: 'heartbeat interval should be at most a third of the session timeout',
      });
    }
    c.inference.relations.forEach((name, i) => {
      const problem = relationNameProblem(name);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['inference', 'relations', i], message: `relation ${JSON.stringify(name)} ${problem}` });
    });
    if (c.inference.batchMaxWaitMs * 2 > c.kafka.sessionTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['inference', 'batchMaxWaitMs'], message: 'batch wait must be well below the session timeout' });
    }
    if (c.elasticsearch.apiKey && (c.elasticsearch.username || c.elasticsearch.password)) {
      ctx.addIssue({ code: 'custom', path: ['elasticsearch', 'apiKey'], message: 'set either an API key or username/password, not both' });
    }
    if (c.kafka.brokers.some((b) => b.includes('@') || b.includes('://'))) {
      // Not echoed: the entry may hold a password.
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'brokers'],
        message: 'brokers are host:port, without a scheme or credentials: use KAFKA_SSL and KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD',
      });
    }
    if ((c.labelStudio.url === undefined) !== (c.labelStudio.apiKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['labelStudio', 'url'], message: 'LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY go together (the API exports annotated tasks for training)' });
    }
    if ((c.labelStudio.basicAuthUser === undefined) !== (c.labelStudio.basicAuthPass === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['labelStudio', 'basicAuthUser'], message: 'basic auth needs a user and a password together' });
    }
    if (c.model.backend === 'gner' && c.inference.relations.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['inference', 'relations'], message: 'RELATIONS need a GLiNER model: MODEL_BACKEND=gner finds entities only' });
    }
    if (c.model.backend === 'gner' && c.inference.executionProvider === 'cuda' && c.inference.cudaDeviceId !== 0) {
      // transformers.js takes a device name, not an ordinal: pick the GPU with CUDA_VISIBLE_DEVICES instead.
      ctx.addIssue({ code: 'custom', path: ['inference', 'cudaDeviceId'], message: 'MODEL_BACKEND=gner runs on the first visible CUDA device: set CUDA_VISIBLE_DEVICES instead of CUDA_DEVICE_ID' });
    }
    if (c.model.backend === 'gner' && c.inference.mergeAdjacent) {
      ctx.addIssue({ code: 'custom', path: ['inference', 'mergeAdjacent'], message: 'MERGE_ADJACENT is a GLiNER token-model rule: GNER writes whole BIO spans' });
    }
    if ((c.kafka.saslMechanism === 'none') !== (c.kafka.saslUsername === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['kafka', 'saslMechanism'], message: 'SASL needs a mechanism and a username (and password) together' });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
