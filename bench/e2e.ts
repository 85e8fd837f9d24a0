/**
 * End-to-end benchmark: articles produced to a real Kafka topic, enriched by the real
 * service (`node dist/cli.js run`, a child process), written to a real Elasticsearch and
 * an output topic. Latency of an article = CreateTime of its output record − CreateTime
 * of its input record (one clock). Throughput = articles ÷ (last output − first input).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import type { Article } from './corpus.js';
import { percentile } from './stats.js';

export interface E2eResult {
  /** CPU seconds used during the run by the service process and by the Kafka + Elasticsearch JVMs. */
  cpuSeconds: { service: number; kafkaAndEs: number; available: number };
  articles: number;
  words: number;
  seconds: number;
  articlesPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  indexed: number;
  peakRssMb: number;
  /** Share of the run's wall time that ONNX Runtime was running batches (service metric). */
  onnxBusy: number;
}

const ROOT = new URL('../', import.meta.url).pathname;

const CLK_TCK = 100;

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** The JVMs on this machine (the local Kafka and Elasticsearch). */
function javaPids(): number[] {
  const r = spawnSync('pgrep', ['-x', 'java'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

function vmHwmMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runE2e(opts: {
  brokers: string;
  esUrl: string;
  modelDir: string;
  variant: string;
  articles: Article[];
  words: number;
  labels: string[];
  threads: number;
  batchSize: number;
  httpPort: number;
}): Promise<E2eResult> {
  const tag = `bench-${Date.now()}`;
  const topics = { in: `${tag}-in`, out: `${tag}-out`, dlq: `${tag}-dlq` };
  const kafka = new Kafka({ clientId: tag, brokers: opts.brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: topics.in, numPartitions: 2 }, { topic: topics.out }, { topic: topics.dlq }], waitForLeaders: true });
  await admin.disconnect();

  const env = {
    ...process.env,
    MODEL_DIR: opts.modelDir,
    MODEL_VARIANT: opts.variant,
    KAFKA_BROKERS: opts.brokers,
    KAFKA_INPUT_TOPIC: topics.in,
    KAFKA_OUTPUT_TOPIC: topics.out,
    KAFKA_DLQ_TOPIC: topics.dlq,
    KAFKA_GROUP_ID: tag,
    ELASTICSEARCH_URL: opts.esUrl,
    ELASTICSEARCH_INDEX: tag,
    LABELS: opts.labels.join(','),
    INFERENCE_WORKERS: '1',
    INTRA_OP_THREADS: String(opts.threads),
    BATCH_MAX_ITEMS: String(opts.batchSize),
    HTTP_PORT: String(opts.httpPort),
    LOG_LEVEL: 'warn',
  };
  const child: ChildProcess = spawn(process.execPath, [`${ROOT}dist/cli.js`, 'run'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const es = new Client({ node: opts.esUrl });
  const consumer = kafka.consumer({ groupId: `${tag}-reader` });
  try {
    await waitFor('service readiness', async () => ((await fetch(`http://127.0.0.1:${opts.httpPort}/readyz`)).ok ? true : undefined), 180_000);
    const outTimes = new Map<string, number>();
    await consumer.connect();
    await consumer.subscribe({ topic: topics.out, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        outTimes.set(message.key?.toString() ?? '', Number(message.timestamp));
      },
    });
    const producer = kafka.producer();
    await producer.connect();
    const inTimes = new Map<string, number>();
    const jvms = javaPids();
    const cpu0 = { service: cpuSeconds(child.pid!), jvm: jvms.reduce((a, p) => a + cpuSeconds(p), 0) };
    const first = Date.now();
    for (const a of opts.articles) {
      const ts = Date.now();
      inTimes.set(a.id, ts);
      await producer.send({ topic: topics.in, messages: [{ key: a.id, value: JSON.stringify({ id: a.id, body: a.body }), timestamp: String(ts) }] });
    }
    await producer.disconnect();
    await waitFor('all output records', async () => (outTimes.size >= opts.articles.length ? true : undefined), 3_600_000);
    const last = Math.max(...outTimes.values());
    const cpu = {
      service: cpuSeconds(child.pid!) - cpu0.service,
      kafkaAndEs: jvms.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0.jvm,
      available: ((Date.now() - first) / 1000) * availableParallelism(),
    };
    const latencies = opts.articles.map((a) => outTimes.get(a.id)! - inTimes.get(a.id)!);
    await es.indices.refresh({ index: tag });
    const indexed = (await es.count({ index: tag })).count;
    const peakRssMb = vmHwmMb(child.pid!);
    const metrics = await (await fetch(`http://127.0.0.1:${opts.httpPort}/metrics`)).text();
    const onnxSeconds = Number(/^enricher_onnx_run_seconds_sum (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    const seconds = (last - first) / 1000;
    return {
      cpuSeconds: cpu,
      articles: opts.articles.length,
      words: opts.words,
      seconds,
      articlesPerSecond: opts.articles.length / seconds,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      indexed,
      peakRssMb,
      onnxBusy: onnxSeconds / seconds,
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await es.indices.delete({ index: tag }).catch(() => undefined);
    await es.close();
  }
}
