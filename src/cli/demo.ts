import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { loadConfig } from '../config-load.js';
import { EnricherError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createKafka } from '../pipeline/kafka-client.js';
import { EnricherService } from '../pipeline/service.js';
import { keyOfLine } from './produce.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = `${ROOT}scripts/services.sh`;
const SAMPLES = `${ROOT}samples/news.jsonl`;
const FIXTURE_MODEL = `${ROOT}test/fixtures/models/tiny-span`;
const PREFERRED_MODEL = `${ROOT}models/gliner_medium_news-v2.1`;

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function isModelDir(dir: string): boolean {
  return existsSync(`${dir}/gliner_config.json`) && existsSync(`${dir}/onnx`);
}

/** The best model present: $MODEL_DIR, the news model, any other model under models/, the test fixture. */
export function pickModel(env: NodeJS.ProcessEnv = process.env): { dir: string; why: string } {
  if (env['MODEL_DIR']) return { dir: env['MODEL_DIR'], why: 'MODEL_DIR' };
  if (isModelDir(PREFERRED_MODEL)) return { dir: PREFERRED_MODEL, why: 'news model fetched under models/' };
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

async function ensureServices(): Promise<{ brokers: string; esUrl: string; started: string[] }> {
  const brokers = process.env['KAFKA_BROKERS'];
  const esUrl = process.env['ELASTICSEARCH_URL'];
  if (brokers && esUrl) return { brokers, esUrl, started: [] };
  if (!existsSync(SERVICES)) throw new EnricherError('CONFIG_INVALID', 'set KAFKA_BROKERS and ELASTICSEARCH_URL (scripts/services.sh is only in a checkout)');
  const started: string[] = [];
  const env: Record<string, string> = {};
  for (const name of ['kafka', 'es'] as const) {
    const running = (await services(['status', name])).includes('running');
    say(`${running ? 'Using the running' : 'Starting a local'} ${name === 'es' ? 'Elasticsearch' : 'Kafka'} (scripts/services.sh)…`);
    const out = await services(['start', name]);
    for (const m of out.matchAll(/^([A-Z_]+)=(\S+)$/gm)) env[m[1]!] = m[2]!;
    if (!running) started.push(name);
  }
  return { brokers: brokers ?? env['KAFKA_BROKERS']!, esUrl: esUrl ?? env['ELASTICSEARCH_URL']!, started };
}

interface Bucket {
  key: string;
  doc_count: number;
}

/** `news-enricher demo`: the README's first command. */
export async function demoCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    say('news-enricher demo — local Kafka + Elasticsearch, sample articles in, entities out (see README "Run the service")');
    return 0;
  }
  const model = pickModel();
  say(`Model: ${model.dir} (${model.why})`);
  const { brokers, esUrl, started } = await ensureServices();
  const run = Date.now().toString(36);
  const topics = { input: `demo-articles-${run}`, output: `demo-enriched-${run}`, dlq: `demo-dlq-${run}` };
  const index = `news-demo-${run}`;
  const config = loadConfig({
    env: {
      ...process.env,
      MODEL_DIR: model.dir,
      KAFKA_BROKERS: brokers,
      ELASTICSEARCH_URL: esUrl,
      KAFKA_INPUT_TOPIC: topics.input,
      KAFKA_OUTPUT_TOPIC: topics.output,
      KAFKA_DLQ_TOPIC: topics.dlq,
      KAFKA_GROUP_ID: `demo-${run}`,
      ELASTICSEARCH_INDEX: index,
      HTTP_PORT: process.env['HTTP_PORT'] ?? '0',
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
    },
  });
  const logger = createLogger(config.logLevel, pino.destination(2));
  const kafka = createKafka(config, logger, '-demo');
  const es = new Client({ node: esUrl });
  let service: EnricherService | undefined;
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
    await admin.disconnect();

    const lines = readFileSync(SAMPLES, 'utf8').split('\n').filter((l) => l.trim() !== '');
    say(`Publishing ${lines.length} lines of samples/news.jsonl to ${topics.input}…`);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: topics.input, acks: -1, messages: lines.map((l) => ({ key: keyOfLine(l), value: l })) });
    await producer.disconnect();

    const t0 = Date.now();
    service = await EnricherService.start({ config, logger });
    say(`Enricher running (probes and metrics on http://127.0.0.1:${service.port}/metrics)…`);
    const metric = async (name: string): Promise<number> => {
      const m = await service!.metrics.registry.getSingleMetricAsString(name);
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
    say(`\nTry it yourself: curl -s '${esUrl}/${index}/_search?q=entities_by_label.${labelFieldHint(first?.key)}:*&size=1'`);
  } finally {
    await service?.close();
    await es.close();
    for (const name of started.reverse()) {
      say(`Stopping the ${name === 'es' ? 'Elasticsearch' : 'Kafka'} started for the demo…`);
      await services(['stop', name]).catch((err: unknown) => process.stderr.write(`${String(err)}\n`));
    }
  }
  return 0;
}

function labelFieldHint(label: string | undefined): string {
  return (label ?? 'person').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_');
}
