import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './config.js';
import { EnricherError } from './errors.js';
import { redactDeep } from './redact.js';

/**
 * Environment variables → config paths. This table is the documented interface
 * (README "Configuration"); a test checks that the README lists every variable.
 */
export const ENV_VARS: Readonly<Record<string, string>> = {
  MODEL_DIR: 'model.dir',
  MODEL_VARIANT: 'model.variant',
  MODEL_NAME: 'model.name',
  MODEL_BACKEND: 'model.backend',
  GNER_BATCH_SIZE: 'gner.batchSize',
  GNER_MAX_SOURCE_TOKENS: 'gner.maxSourceTokens',
  GNER_MAX_NEW_TOKENS: 'gner.maxNewTokens',
  GNER_GROUP_WORDS: 'gner.groupWords',
  GNER_DATASET: 'gner.dataset',
  EXECUTION_PROVIDER: 'inference.executionProvider',
  CUDA_DEVICE_ID: 'inference.cudaDeviceId',
  INFERENCE_WORKERS: 'inference.workers',
  INTRA_OP_THREADS: 'inference.intraOpThreads',
  INTER_OP_THREADS: 'inference.interOpThreads',
  LABELS: 'inference.labels',
  ALLOW_MESSAGE_LABELS: 'inference.allowMessageLabels',
  MAX_LABELS_PER_MESSAGE: 'inference.maxLabelsPerMessage',
  THRESHOLD: 'inference.threshold',
  FLAT_NER: 'inference.flatNer',
  MULTI_LABEL: 'inference.multiLabel',
  MERGE_ADJACENT: 'inference.mergeAdjacent',
  RELATIONS: 'inference.relations',
  RELATION_THRESHOLD: 'inference.relationThreshold',
  RELATION_LABELS_PER_PASS: 'inference.relationLabelsPerPass',
  WINDOW_WORDS: 'inference.windowWords',
  WINDOW_OVERLAP_WORDS: 'inference.windowOverlapWords',
  WINDOW_MAX_TOKENS: 'inference.windowMaxTokens',
  BATCH_MAX_ITEMS: 'inference.batchMaxItems',
  ORT_GRAPH_OPTIMIZATION: 'inference.ortGraphOptimization',
  ORT_ALLOW_SPINNING: 'inference.ortAllowSpinning',
  BATCH_MAX_TOKENS: 'inference.batchMaxTokens',
  BATCH_MAX_WAIT_MS: 'inference.batchMaxWaitMs',
  INFERENCE_CONCURRENCY: 'inference.concurrency',
  KAFKA_BROKERS: 'kafka.brokers',
  KAFKA_CLIENT_ID: 'kafka.clientId',
  KAFKA_GROUP_ID: 'kafka.groupId',
  KAFKA_INPUT_TOPIC: 'kafka.inputTopic',
  KAFKA_OUTPUT_TOPIC: 'kafka.outputTopic',
  KAFKA_DLQ_TOPIC: 'kafka.dlqTopic',
  KAFKA_FROM_BEGINNING: 'kafka.fromBeginning',
  KAFKA_EXACTLY_ONCE: 'kafka.exactlyOnce',
  KAFKA_TRANSACTIONAL_ID_PREFIX: 'kafka.transactionalIdPrefix',
  KAFKA_SESSION_TIMEOUT_MS: 'kafka.sessionTimeoutMs',
  KAFKA_HEARTBEAT_INTERVAL_MS: 'kafka.heartbeatIntervalMs',
  KAFKA_MAX_MESSAGE_BYTES: 'kafka.maxMessageBytes',
  KAFKA_SSL: 'kafka.ssl',
  KAFKA_SSL_CA_FILE: 'kafka.sslCaFile',
  KAFKA_SASL_MECHANISM: 'kafka.saslMechanism',
  KAFKA_SASL_USERNAME: 'kafka.saslUsername',
  KAFKA_SASL_PASSWORD: 'kafka.saslPassword',
  ELASTICSEARCH_URL: 'elasticsearch.url',
  ELASTICSEARCH_INDEX: 'elasticsearch.index',
  ELASTICSEARCH_INSTALL_TEMPLATE: 'elasticsearch.installTemplate',
  ELASTICSEARCH_REFRESH: 'elasticsearch.refresh',
  ELASTICSEARCH_API_KEY: 'elasticsearch.apiKey',
  ELASTICSEARCH_USERNAME: 'elasticsearch.username',
  ELASTICSEARCH_PASSWORD: 'elasticsearch.password',
  ELASTICSEARCH_CA_FILE: 'elasticsearch.caFile',
  ELASTICSEARCH_REQUEST_TIMEOUT_MS: 'elasticsearch.requestTimeoutMs',
  ELASTICSEARCH_RETRY_BASE_MS: 'elasticsearch.retryBaseMs',
  ELASTICSEARCH_RETRY_MAX_MS: 'elasticsearch.retryMaxMs',
  ELASTICSEARCH_BULK_MAX_BYTES: 'elasticsearch.bulkMaxBytes',
  ELASTICSEARCH_VERSION_EPOCH: 'elasticsearch.versionEpoch',
  ELASTICSEARCH_TEMPLATE_FILE: 'elasticsearch.templateFile',
  LABEL_STUDIO_BACKEND_PORT: 'labelStudio.port',
  BASIC_AUTH_USER: 'labelStudio.basicAuthUser',
  BASIC_AUTH_PASS: 'labelStudio.basicAuthPass',
  LABEL_STUDIO_URL: 'labelStudio.url',
  LABEL_STUDIO_API_KEY: 'labelStudio.apiKey',
  LABEL_STUDIO_LABEL_MAP: 'labelStudio.labelMap',
  LABEL_STUDIO_MAX_TASKS: 'labelStudio.maxTasks',
  LABEL_STUDIO_MAX_REQUEST_BYTES: 'labelStudio.maxRequestBytes',
  LABEL_STUDIO_MODELS_DIR: 'labelStudio.modelsDir',
  LABEL_STUDIO_TRAIN_INIT: 'labelStudio.trainInit',
  LABEL_STUDIO_TRAIN_STEPS: 'labelStudio.trainSteps',
  LABEL_STUDIO_TRAIN_MIN_TASKS: 'labelStudio.trainMinTasks',
  LABEL_STUDIO_PYTHON: 'labelStudio.python',
  MAX_BODY_BYTES: 'maxBodyBytes',
  QUEUE_MAX_ARTICLES: 'queueMaxArticles',
  SHUTDOWN_GRACE_MS: 'shutdownGraceMs',
  HTTP_PORT: 'httpPort',
  LIVENESS_STALL_MS: 'livenessStallMs',
  LOG_LEVEL: 'logLevel',
};

/** Config keys whose values never reach logs. */
export const SECRET_PATHS = ['kafka.saslPassword', 'elasticsearch.apiKey', 'elasticsearch.password', 'labelStudio.basicAuthPass', 'labelStudio.apiKey'] as const;

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (next === undefined || next === null || typeof next !== 'object') node[p] = {};
    node = node[p] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v) && b !== null && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Tree, v as Tree)
        : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Reads a JSON or YAML config file (by extension; YAML is a superset of JSON). */
export function readConfigFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EnricherError('CONFIG_INVALID', `cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const v = parseYaml(text) as unknown;
    if (v === null || v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new Error('top level must be a mapping');
    return v as Tree;
  } catch (err) {
    throw new EnricherError('CONFIG_INVALID', `config file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export interface LoadConfigInput {
  env?: NodeJS.ProcessEnv;
  /** Config file; defaults to $CONFIG_FILE. */
  file?: string;
  /** Highest-precedence overrides (CLI flags), as a partial config tree. */
  overrides?: Tree;
}

/** Builds, validates and freezes the configuration. Throws CONFIG_INVALID listing every problem. */
export function loadConfig({ env = process.env, file, overrides = {} }: LoadConfigInput = {}): Readonly<Config> {
  const path = file ?? env.CONFIG_FILE;
  let tree: Tree = path ? readConfigFile(path) : {};
  const fromEnv: Tree = {};
  for (const [name, target] of Object.entries(ENV_VARS)) {
    const v = env[name];
    if (v !== undefined) setPath(fromEnv, target, v);
  }
  tree = deepMerge(deepMerge(tree, fromEnv), overrides);
  const parsed = ConfigSchema.safeParse(tree);
  if (!parsed.success) {
    const byPath = new Map(Object.entries(ENV_VARS).map(([k, v]) => [v, k]));
    const issues = parsed.error.issues.map((i) => {
      const p = i.path.join('.');
      const envName = byPath.get(p);
      return `${p || '(root)'}${envName ? ` (${envName})` : ''}: ${i.message}`;
    });
    throw new EnricherError('CONFIG_INVALID', `invalid configuration: ${issues.join('; ')}`);
  }
  return deepFreeze(parsed.data);
}

/** The config with secrets replaced (the secret keys, and credentials inside URLs), for the start-up log line. */
export function redactConfig(config: Readonly<Config>): Tree {
  const copy = redactDeep(JSON.parse(JSON.stringify(config)) as Tree);
  for (const p of SECRET_PATHS) {
    const parts = p.split('.');
    const parent = parts.slice(0, -1).reduce<Tree | undefined>((n, k) => n?.[k] as Tree | undefined, copy);
    const leaf = parts[parts.length - 1]!;
    if (parent && parent[leaf] !== undefined) parent[leaf] = '[redacted]';
  }
  return copy;
}
