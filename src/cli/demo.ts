import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { loadConfig } from '../config-load.js';
import { EnricherError } from '../errors.js';
import { createLogger } from '../logger.js';
import { redactUrlCredentials } from '../redact.js';
import { createKafka } from '../pipeline/kafka-client.js';
import { EnricherService } from '../pipeline/service.js';
import { keyOfLine } from './produce.js';
import { mostExactVariant } from '../gliner/model-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = `${ROOT}scripts/services.sh`;
/** Generated articles (incl. malformed ones) and real Wikinews articles (CC BY 2.5; samples/README.md). */
const SAMPLES = ['news.jsonl', 'wikinews.jsonl'];
const FIXTURE_MODEL = `${ROOT}test/fixtures/models/tiny-span`;
/** A fetched published model wins; else the trained model shipped in the repository. */
const PREFERRED_MODEL = `${ROOT}models/gliner_medium_news-v2.1`;
const SHIPPED_MODEL = `${ROOT}models/gliner-news-minilm-l6`;

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function isModelDir(dir: string): boolean {
  return existsSync(`${dir}/gliner_config.json`) && existsSync(`${dir}/onnx`);
}

/** The best model present: $MODEL_DIR, the news model, any other model under models/, the test fixture. */
export function pickModel(env: NodeJS.ProcessEnv = process.env): { dir: string; why: string; variant?: string } {
  if (env['MODEL_DIR']) return { dir: env['MODEL_DIR'], why: 'MODEL_DIR' };
  if (isModelDir(PREFERRED_MODEL)) return { dir: PREFERRED_MODEL, why: 'news model fetched under models/' };
  if (isModelDir(SHIPPED_MODEL)) {
    // The repository ships one variant of it (models/gliner-news-minilm-l6/README.md); fp32 when present.
    const variant = env['MODEL_VARIANT'] ?? mostExactVariant(SHIPPED_MODEL) ?? 'fp32';
    return { dir: SHIPPED_MODEL, why: `trained news model shipped in models/, ${variant} (small, uncased; EVALUATION.md)`, variant };
  }
  const others = existsSync(`${ROOT}models`) ? readdirSync(`${ROOT}models`).map((d) => `${ROOT}models/${d}`).filter(isModelDir) : [];
  if (others[0] !== undefined) return { dir: others[0], why: 'model found under models/' };
  if (isModelDir(FIXTURE_MODEL)) return { dir: FIXTURE_MODEL, why: 'bundled test fixture (random weights: entities are meaningless)' };
  throw new EnricherError('CONFIG_INVALID', 'no model found: set MODEL_DIR, fetch one into models/ (models/README.md), or build the test fixtures');
}

/** Runs scripts/services.sh; resolves with stdout, rejects with its stderr tail. */
function services(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SERVICES, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      process.stderr.write(b);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 || (args[0] === 'status' && code === 3) ? resolve(out) : reject(new Error(`services.sh ${args.join(' ')} exited ${code}: ${err.slice(-800)}`))));
  });
}

type ServiceName = 'kafka' | 'es';
const serviceTitle = (name: ServiceName): string => (name === 'es' ? 'Elasticsearch' : 'Kafka');

/**
 * Starts what is not running and records it in `started` *before* starting it, so a Ctrl-C or
 * an error in the middle of a start still stops it (services.sh stop is idempotent).
 */
async function ensureServices(started: ServiceName[], state: { interrupted: boolean }): Promise<{ brokers: string; esUrl: string }> {
  const brokers = process.env['KAFKA_BROKERS'];
  const esUrl = process.env['ELASTICSEARCH_URL'];
  if (brokers && esUrl) {
    say('Using KAFKA_BROKERS and ELASTICSEARCH_URL from the environment (nothing is started or stopped).');
    return { brokers, esUrl };
  }
  if (!existsSync(SERVICES)) throw new EnricherError('CONFIG_INVALID', 'set KAFKA_BROKERS and ELASTICSEARCH_URL (scripts/services.sh is only in a checkout)');
  const env: Record<string, string> = {};
  for (const name of ['kafka', 'es'] as const) {
    const running = (await services(['status', name])).includes('running');
    if (state.interrupted) await halt();
    say(running ? `Reusing the ${serviceTitle(name)} already running (scripts/services.sh; left running afterwards)…` : `Starting a local ${serviceTitle(name)} (scripts/services.sh)…`);
    if (!running) started.push(name);
    const out = await services(['start', name]).catch(async (err: unknown) => (state.interrupted ? halt() : Promise.reject(err)));
    if (state.interrupted) await halt();
    for (const m of out.matchAll(/^([A-Z_]+)=(\S+)$/gm)) env[m[1]!] = m[2]!;
  }
  return { brokers: brokers ?? env['KAFKA_BROKERS']!, esUrl: esUrl ?? env['ELASTICSEARCH_URL']! };
}

/** Stops (once) what this demo started, newest first; a second caller finds the list empty. */
async function stopStarted(started: ServiceName[]): Promise<void> {
  for (const name of started.splice(0).reverse()) {
    say(`Stopping the ${serviceTitle(name)} started for the demo…`);
    await services(['stop', name]).catch((err: unknown) => process.stderr.write(`${String(err)}\n`));
  }
}

interface Bucket {
  key: string;
  doc_count: number;
}

/** `news-enricher demo`: the README's first command. */
export async function demoCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    say('news-enricher demo [--keep] — local Kafka + Elasticsearch, sample articles in, entities out (see README "Run the service")');
    say('  --keep  leave the Kafka and Elasticsearch it started running, and print how to query and stop them');
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--keep');
  if (unknown.length > 0) throw new EnricherError('CONFIG_INVALID', `demo: unknown option ${unknown.join(' ')} (try --help)`);
  const keep = argv.includes('--keep');
  const model = pickModel();
  say(`Model: ${model.dir} (${model.why})`);
  const run = Date.now().toString(36);
  // Client logs (kafkajs, the service) go to a file, not between the demo's own lines.
  mkdirSync(`${ROOT}.svc`, { recursive: true });
  const logFile = `${ROOT}.svc/demo-${run}.log`;
  say(`Service and client logs: ${logFile}`);
  const started: ServiceName[] = [];
  const state: DemoState = { index: '', label: undefined, interrupted: false };
  // Ctrl-C / SIGTERM: stop what this demo started, then exit 130 / 143.
  const onSignal = (signal: NodeJS.Signals): void => {
    state.interrupted = true;
    say(`\n${signal}: cleaning up…`);
    void (async () => {
      await state.service?.close().catch(() => undefined);
      if (!keep) await stopStarted(started);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let esUrl = '';
  try {
    const endpoints = await ensureServices(started, state);
    esUrl = endpoints.esUrl;
    return await demoRun(run, model, endpoints.brokers, esUrl, logFile, state);
  } finally {
    if (state.interrupted) await halt();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await state.service?.close();
    await state.es?.close();
    const shownUrl = redactUrlCredentials(esUrl);
    if (keep || started.length === 0) {
      if (state.index !== '') say(`\nTry it yourself: curl -s '${shownUrl}/${state.index}/_search?q=entities_by_label.${labelFieldHint(state.label)}:*&size=1'`);
      // services.sh takes one target: a service name or all.
      if (started.length > 0) say(`Left running (--keep): stop ${started.length > 1 ? 'them' : 'it'} with  bash scripts/services.sh stop ${started.length > 1 ? 'all' : started[0]}`);
    } else {
      await stopStarted(started);
      say('(Run with --keep to leave Kafka and Elasticsearch running and query them yourself.)');
    }
  }
}

/** What the clean-up needs to know of a run in progress. */
interface DemoState {
  service?: EnricherService;
  es?: Client;
  index: string;
  label: string | undefined;
  /** Set by Ctrl-C / SIGTERM: the handler cleans up and exits; the main flow must not go on. */
  interrupted: boolean;
}

/** Parks the main flow for good once interrupted (the signal handler exits the process). */
const halt = (): Promise<never> => new Promise<never>(() => undefined);

async function demoRun(run: string, model: { dir: string; variant?: string }, brokers: string, esUrl: string, logFile: string, state: DemoState): Promise<number> {
  const topics = { input: `demo-articles-${run}`, output: `demo-enriched-${run}`, dlq: `demo-dlq-${run}` };
  const index = `news-demo-${run}`;
  state.index = index;
  const config = loadConfig({
    env: {
      ...process.env,
      MODEL_DIR: model.dir,
      ...(model.variant !== undefined ? { MODEL_VARIANT: model.variant } : {}),
      KAFKA_BROKERS: brokers,
      ELASTICSEARCH_URL: esUrl,
      KAFKA_INPUT_TOPIC: topics.input,
      KAFKA_OUTPUT_TOPIC: topics.output,
      KAFKA_DLQ_TOPIC: topics.dlq,
      KAFKA_GROUP_ID: `demo-${run}`,
      ELASTICSEARCH_INDEX: index,
      HTTP_PORT: process.env['HTTP_PORT'] ?? '0',
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
    },
  });
  const logger = createLogger(config.logLevel, pino.destination({ dest: logFile, sync: true }));
  const kafka = createKafka(config, logger, '-demo');
  const es = new Client({ node: esUrl });
  state.es = es;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
  await admin.disconnect();

  const lines = SAMPLES.flatMap((f) => readFileSync(`${ROOT}samples/${f}`, 'utf8').split('\n').filter((l) => l.trim() !== ''));
  say(`Publishing ${lines.length} lines of samples/${SAMPLES.join(' + samples/')} to ${topics.input}…`);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: topics.input, acks: -1, messages: lines.map((l) => ({ key: keyOfLine(l), value: l })) });
  await producer.disconnect();

  const t0 = Date.now();
  const service = await EnricherService.start({ config, logger });
  state.service = service;
  say(`Enricher running (probes and metrics on http://127.0.0.1:${service.port}/metrics)…`);
  const metric = async (name: string): Promise<number> => {
    const m = await service.metrics.registry.getSingleMetricAsString(name);
    return m.split('\n').filter((l) => l.startsWith(name)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  };
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const done = (await metric('enricher_messages_out_total')) + (await metric('enricher_messages_dead_lettered_total'));
    if (done >= lines.length) break;
    if (Date.now() > deadline) throw new Error(`timed out: ${done} of ${lines.length} done`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (Date.now() - t0) / 1000;
  await es.indices.refresh({ index });
  const count = (await es.count({ index })).count;
  say(`\nDone in ${seconds.toFixed(1)} s: ${count} articles in Elasticsearch index ${index}, ${await metric('enricher_messages_dead_lettered_total')} dead-lettered to ${topics.dlq}.`);
  const dlq = await service.metrics.registry.getSingleMetricAsString('enricher_messages_dead_lettered_total');
  for (const m of dlq.matchAll(/code="([A-Z_]+)"\} (\d+)/g)) say(`  dead-letter ${m[1]}: ${m[2]}`);

  const aggs = await es.search<unknown, { ents: { labels: { buckets: Array<Bucket & { top: { buckets: Bucket[] } }> } } }>({
    index,
    size: 0,
    aggs: { ents: { nested: { path: 'entities' }, aggs: { labels: { terms: { field: 'entities.label' }, aggs: { top: { terms: { field: 'entities.text.keyword', size: 5 } } } } } } },
  });
  const labels = aggs.aggregations?.ents.labels.buckets ?? [];
  say('\nMentions per label (top entities):');
  for (const b of labels) say(`  ${b.key.padEnd(14)} ${String(b.doc_count).padStart(6)}   ${b.top.buckets.map((t) => `${t.key} (${t.doc_count})`).join(', ')}`);
  // The most mentioned entity that looks like a name (a random-weight fixture also finds ",").
  const first = labels.find((b) => b.top.buckets.some((t) => /\p{L}{3}/u.test(t.key))) ?? labels[0];
  state.label = first?.key;
  const entity = first?.top.buckets.find((t) => /\p{L}{3}/u.test(t.key))?.key ?? first?.top.buckets[0]?.key;
  if (first !== undefined && entity !== undefined) {
    const hits = await es.search<{ title?: string }>({
      index,
      size: 5,
      _source: ['title'],
      query: { nested: { path: 'entities', query: { bool: { filter: [{ term: { 'entities.label': first.key } }, { term: { 'entities.text.keyword': entity } }] } } } },
    });
    const total = typeof hits.hits.total === 'number' ? hits.hits.total : (hits.hits.total?.value ?? 0);
    say(`\nArticles mentioning ${first.key} "${entity}": ${total}`);
    for (const h of hits.hits.hits) say(`  ${h._id}  ${h._source?.title ?? ''}`);
  }
  return 0;
}

function labelFieldHint(label: string | undefined): string {
  return (label ?? 'person').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_');
}
