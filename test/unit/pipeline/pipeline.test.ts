/**
 * The orchestration with fakes around it: ordering of effects, commits, backpressure,
 * dead-lettering and revocation, without Kafka or Elasticsearch.
 */
import type { KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config-load.js';
import { EnricherError } from '../../../src/errors.js';
import type { ExtractionRequest, FieldEntities, EntityExtractor } from '../../../src/core/extraction.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { EsDocument, EsDocumentResult, EsSink } from '../../../src/pipeline/es-sink.js';
import { HealthState } from '../../../src/pipeline/health.js';
import type { KafkaSink, TopicRecord } from '../../../src/pipeline/kafka-sink.js';
import { PipelineMetrics } from '../../../src/pipeline/metrics.js';
import type { Source, SourceBatch } from '../../../src/pipeline/source.js';

const TOPIC = 'in';
const logger = pino({ level: 'silent' });
const model = { name: 'fake', sha256: '0'.repeat(64), file: 'onnx/model.onnx', spanMode: 'span' as const, maxLen: 384, maxWidth: 12, executionProvider: 'cpu' };

/** Finds capitalised words; resolves after a delay the test controls. */
class FakeExtractor implements EntityExtractor {
  readonly model = model;
  delay: (text: string) => number = () => 0;
  fail: (text: string) => EnricherError | undefined = () => undefined;
  readonly requests: ExtractionRequest[] = [];
  /** The next relation passes that fail transiently. */
  relationFailures = 0;
  async extract(request: ExtractionRequest): Promise<FieldEntities[]> {
    this.requests.push(request);
    if (request.taskPrompt !== undefined) {
      if (this.relationFailures > 0) {
        this.relationFailures--;
        throw new EnricherError('WORKER_CRASHED', 'worker died during the relation pass');
      }
      return this.relationPass(request);
    }
    const body = request.fields[request.fields.length - 1]!.text;
    await new Promise((r) => setTimeout(r, this.delay(body)));
    const err = this.fail(body);
    if (err) throw err;
    return request.fields.map((f) => ({
      field: f.field,
      windows: 1,
      words: f.text.split(' ').length,
      entities: [...f.text.matchAll(/\b[A-Z][a-z]+\b/g)].map((m) => ({ text: m[0], label: 'person', start: m.index, end: m.index + m[0].length, score: 0.9 })),
    }));
  }
  /** The relation pass: for each "<head> <> <relation>" label, the first other capitalised word is its tail. */
  private relationPass(request: ExtractionRequest): FieldEntities[] {
    return request.fields.map((f) => {
      const words = [...f.text.matchAll(/\b[A-Z][a-z]+\b/g)];
      const entities = request.labels.flatMap((label) => {
        const head = label.split(' <> ')[0]!;
        const tail = words.find((m) => m[0] !== head);
        return tail === undefined ? [] : [{ text: tail[0], label, start: tail.index, end: tail.index + tail[0].length, score: 0.7 }];
      });
      return { field: f.field, windows: 1, words: 0, entities };
    });
  }
  async close(): Promise<void> {}
}

class FakeSource {
  assigned = new Set([0, 1]);
  backpressured = false;
  pauses: boolean[] = [];
  commits: Array<Map<number, number>> = [];
  setBackpressure(on: boolean): void {
    if (on !== this.backpressured) this.pauses.push(on);
    this.backpressured = on;
  }
  hold(): void {}
  unhold(): void {}
  seek(): void {}
  async committed(): Promise<undefined> {
    return undefined;
  }
  async commit(offsets: ReadonlyMap<number, number>): Promise<boolean> {
    this.commits.push(new Map(offsets));
    return true;
  }
}

class FakeEs {
  docs: EsDocument[] = [];
  reject = new Set<string>();
  async write(docs: readonly EsDocument[]): Promise<EsDocumentResult[]> {
    return docs.map((d) => {
      if (this.reject.has(d.id)) return { kind: 'rejected', error: new EnricherError('ES_DOCUMENT_REJECTED', 'mapper_parsing_exception') };
      this.docs.push(d);
      return { kind: 'indexed' };
    });
  }
}

class FakeKafka {
  sent: TopicRecord[] = [];
  async send(records: readonly TopicRecord[]): Promise<void> {
    this.sent.push(...records);
  }
  async release(): Promise<void> {}
}

function setup(env: Record<string, string> = {}) {
  const config = loadConfig({ env: { MODEL_DIR: '/nonexistent', KAFKA_INPUT_TOPIC: TOPIC, ...env } });
  const extractor = new FakeExtractor();
  const source = new FakeSource();
  const es = new FakeEs();
  const kafka = new FakeKafka();
  const fatal: EnricherError[] = [];
  const metrics = new PipelineMetrics({ defaultMetrics: false });
  const pipeline = new Pipeline({
    config,
    extractor,
    es: es as unknown as EsSink,
    kafka: kafka as unknown as KafkaSink,
    source: source as unknown as Source,
    metrics,
    health: new HealthState(['elasticsearch']),
    logger,
    version: '0.0.0-test',
    backoff: { baseMs: 1, maxMs: 5 },
    onFatal: (e) => fatal.push(e),
  });
  pipeline.start();
  return { config, extractor, source, es, kafka, pipeline, fatal, metrics };
}

function message(offset: number, value: string | Buffer | null, key: string | null = null): KafkaMessage {
  return { offset: String(offset), key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: '0', attributes: 0, size: 0, headers: {} } as unknown as KafkaMessage;
}

function article(id: string, body = `Alice met Bob in article ${id}`): string {
  return JSON.stringify({ id, body });
}

let heartbeats = 0;

function batch(partition: number, messages: KafkaMessage[], resolved: string[] = []): SourceBatch {
  return {
    partition,
    messages,
    highWatermark: String(Number(messages.at(-1)?.offset ?? 0) + 1),
    resolveOffset: (o) => resolved.push(o),
    usable: () => true,
    heartbeat: async () => {
      heartbeats += 1;
    },
  };
}

async function until(probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Pipeline', () => {
  it('applies effects in offset order per partition and never commits past unfinished work', async () => {
    const { extractor, source, es, kafka, pipeline } = setup({ QUEUE_MAX_ARTICLES: '1000' });
    // Later articles finish first.
    extractor.delay = (text) => 60 - Number(/article \w+-(\d+)/.exec(text)?.[1] ?? 0) * 2;
    const done = new Set<string>();
    const origSend = kafka.send.bind(kafka);
    kafka.send = async (records) => {
      await origSend(records);
      for (const r of records) done.add(String(r.record.key));
    };
    const commitsOk: boolean[] = [];
    source.commit = async (offsets) => {
      for (const [p, off] of offsets) for (let o = 0; o < off; o++) commitsOk.push(done.has(`p${p}-${o}`));
      source.commits.push(new Map(offsets));
      return true;
    };
    for (const p of [0, 1]) await pipeline.onBatch(batch(p, Array.from({ length: 25 }, (_, i) => message(i, article(`p${p}-${i}`), `p${p}-${i}`))));
    await until(() => kafka.sent.length === 50);
    for (const p of [0, 1]) {
      const keys = kafka.sent.filter((r) => String(r.record.key).startsWith(`p${p}-`)).map((r) => Number(String(r.record.key).split('-')[1]));
      expect(keys).toEqual([...Array(25).keys()]);
    }
    expect(es.docs).toHaveLength(50);
    expect(es.docs.find((d) => d.id === 'p1-7')?.version).toBe(8);
    await until(() => source.commits.some((c) => c.get(0) === 25) && source.commits.some((c) => c.get(1) === 25));
    expect(commitsOk.every(Boolean)).toBe(true);
    await pipeline.stop(false);
  });

  it('adds relations when RELATIONS are set (a second pass with the task prompt), and none for a message that asks none', async () => {
    const { extractor, es, pipeline } = setup({ RELATIONS: 'knows' });
    await pipeline.onBatch(batch(0, [message(0, article('r-0'), 'r-0'), message(1, JSON.stringify({ id: 'r-1', body: 'Alice met Bob', relations: [] }), 'r-1')]));
    await until(() => es.docs.length === 2);
    const doc = (id: string) => JSON.parse(es.docs.find((d) => d.id === id)!.json) as { relations: Array<{ head: { text: string }; relation: string; tail: { text: string; label: string | null } }>; enrichment: { relations: string[] } };
    const r0 = doc('r-0');
    expect(r0.enrichment.relations).toEqual(['knows']);
    expect(r0.relations.map((r) => [r.head.text, r.relation, r.tail.text, r.tail.label])).toEqual([
      ['Bob', 'knows', 'Alice', 'person'],
      ['Alice', 'knows', 'Bob', 'person'],
    ]);
    expect(doc('r-1').relations).toEqual([]);
    // r-0: one entity pass and one relation pass; r-1: the entity pass only.
    expect(extractor.requests.filter((r) => r.taskPrompt !== undefined)).toHaveLength(1);
    await pipeline.stop(false);
  });

  it('retries a failed relation pass without asking for the entities again', async () => {
    const { extractor, es, pipeline } = setup({ RELATIONS: 'knows' });
    extractor.relationFailures = 1;
    await pipeline.onBatch(batch(0, [message(0, article('rr-0'), 'rr-0')]));
    await until(() => es.docs.length === 1);
    expect((JSON.parse(es.docs[0]!.json) as { relations: unknown[] }).relations).toHaveLength(2);
    expect(extractor.requests.filter((r) => r.taskPrompt === undefined)).toHaveLength(1);
    expect(extractor.requests.filter((r) => r.taskPrompt !== undefined)).toHaveLength(2);
    await pipeline.stop(false);
  });

  it('dead-letters poison messages with their codes and moves on', async () => {
    const { source, es, kafka, pipeline, extractor } = setup();
    extractor.fail = (text) => (text.includes('bad-label') ? new EnricherError('LABELS_INVALID', 'label contains <<ENT>>') : undefined);
    es.reject.add('mapping-bad');
    const raw = [
      message(0, article('ok-0'), 'ok-0'),
      message(1, '{not json'),
      message(2, JSON.stringify({ id: 'nobody' })),
      message(3, JSON.stringify({ id: 'num', body: 42 })),
      message(4, Buffer.from([0x7b, 0xc3, 0x28, 0x7d])),
      message(5, JSON.stringify({ id: 'big', body: 'x'.repeat(2 * 1024 * 1024) })),
      message(6, JSON.stringify({ id: 'lbl', body: 'bad-label text', labels: ['x'] })),
      message(7, article('mapping-bad')),
      message(8, null),
      message(9, article('ok-9'), 'ok-9'),
    ];
    await pipeline.onBatch(batch(0, raw));
    await until(() => kafka.sent.length === 10);
    const dlq = kafka.sent.filter((r) => r.topic === 'news.articles.dlq');
    expect(dlq.map((r) => [r.record.headers['x-source-offset'], r.record.headers['x-error-code']])).toEqual([
      ['1', 'MESSAGE_INVALID_JSON'],
      ['2', 'MESSAGE_SCHEMA'],
      ['3', 'MESSAGE_SCHEMA'],
      ['4', 'MESSAGE_INVALID_UTF8'],
      ['5', 'MESSAGE_TOO_LARGE'],
      ['6', 'LABELS_INVALID'],
      ['7', 'ES_DOCUMENT_REJECTED'],
      ['8', 'MESSAGE_INVALID_JSON'],
    ]);
    expect(Buffer.compare(dlq[3]!.record.value as Buffer, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))).toBe(0);
    expect(kafka.sent.filter((r) => r.topic === 'news.articles.enriched').map((r) => r.record.key)).toEqual(['ok-0', 'ok-9']);
    await until(() => source.commits.some((c) => c.get(0) === 10));
    await pipeline.stop(false);
  });

  it('dead-letters a message nested too deep to serialise (MESSAGE_TOO_DEEP) and processes the ones after it', async () => {
    const { source, kafka, pipeline, fatal } = setup();
    // Issue 9: 6,000 nested arrays pass JSON.parse and validation, then JSON.stringify of the
    // enriched article overflows the stack; that must fail the message, not the service.
    const deep = `{"id":"deep-1","body":"Reuters reported from Paris.","extra":${'['.repeat(6000)}${']'.repeat(6000)}}`;
    const limit = `{"id":"deep-64","body":"Reuters reported from Paris.","extra":${'['.repeat(63)}${']'.repeat(63)}}`;
    await pipeline.onBatch(batch(0, [message(0, article('a-0'), 'a-0'), message(1, deep, 'deep-1'), message(2, limit, 'deep-64'), message(3, article('a-3'), 'a-3')]));
    await until(() => kafka.sent.length === 4);
    expect(fatal).toEqual([]);
    const dlq = kafka.sent.filter((r) => r.topic === 'news.articles.dlq');
    expect(dlq.map((r) => [r.record.headers['x-source-offset'], r.record.headers['x-error-code']])).toEqual([['1', 'MESSAGE_TOO_DEEP']]);
    expect(kafka.sent.filter((r) => r.topic === 'news.articles.enriched').map((r) => r.record.key)).toEqual(['a-0', 'deep-64', 'a-3']);
    await until(() => source.commits.some((c) => c.get(0) === 4));
    await pipeline.stop(false);
  });

  it('dead-letters an article whose enriched form cannot be serialised (OUTPUT_INVALID)', async () => {
    const { source, kafka, pipeline, extractor, fatal } = setup();
    const orig = extractor.extract.bind(extractor);
    extractor.extract = async (req) => {
      const out = await orig(req);
      // A value JSON cannot carry (a BigInt) in one article's result.
      if (req.fields.some((f) => f.text.includes('unserialisable'))) (out[0]!.entities[0] as unknown as { score: unknown }).score = 1n;
      return out;
    };
    await pipeline.onBatch(batch(0, [message(0, article('bad', 'Alice is unserialisable'), 'bad'), message(1, article('ok'), 'ok')]));
    await until(() => kafka.sent.length === 2);
    expect(fatal).toEqual([]);
    const dlq = kafka.sent.filter((r) => r.topic === 'news.articles.dlq');
    expect(dlq.map((r) => [r.record.headers['x-error-code'], r.record.headers['x-article-id']])).toEqual([['OUTPUT_INVALID', 'bad']]);
    expect(kafka.sent.filter((r) => r.topic === 'news.articles.enriched').map((r) => r.record.key)).toEqual(['ok']);
    await until(() => source.commits.some((c) => c.get(0) === 2));
    await pipeline.stop(false);
  });

  it('stops on OPTIONS_INVALID instead of dead-lettering every message for one setting', async () => {
    const { source, kafka, pipeline, extractor, fatal } = setup();
    extractor.fail = () => new EnricherError('OPTIONS_INVALID', 'window size 1000 must be an integer in 1..384');
    await pipeline.onBatch(batch(0, [message(0, article('a')), message(1, article('b'))]));
    await until(() => fatal.length === 1);
    expect(fatal[0]!.code).toBe('OPTIONS_INVALID');
    expect(kafka.sent.filter((r) => r.topic === 'news.articles.dlq')).toEqual([]);
    await pipeline.commitAll();
    expect(source.commits.every((c) => !c.has(0) || c.get(0) === 0)).toBe(true);
    await pipeline.stop(true);
  });

  it('pauses when the queue is full, holds the batch heartbeating, and resumes below half', async () => {
    const { source, kafka, pipeline, extractor, metrics } = setup({ QUEUE_MAX_ARTICLES: '4', KAFKA_HEARTBEAT_INTERVAL_MS: '200' });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const orig = extractor.extract.bind(extractor);
    extractor.extract = async (req) => {
      await gate;
      return orig(req);
    };
    const resolved: string[] = [];
    heartbeats = 0;
    const admitting = pipeline.onBatch(batch(0, Array.from({ length: 10 }, (_, i) => message(i, article(`a-${i}`))), resolved));
    await until(() => source.backpressured);
    expect(resolved).toEqual(['0', '1', '2', '3']);
    expect(pipeline.inFlight).toBe(4);
    await until(() => heartbeats >= 2);
    expect(pipeline.inFlight).toBe(4);
    // The gauge reads the live count while the batch is held (no round has finished yet).
    expect((await metrics.queueDepth.get()).values[0]?.value).toBe(4);
    release();
    await admitting;
    expect(resolved).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await until(() => kafka.sent.length === 10);
    expect(kafka.sent.map((r) => r.record.key)).toEqual(Array.from({ length: 10 }, (_, i) => `a-${i}`));
    expect(source.pauses.slice(0, 2)).toEqual([true, false]);
    expect(source.backpressured).toBe(false);
    // kafkajs refetches from the committed offset after a rebalance: admitted ones are skipped.
    const again: string[] = [];
    await pipeline.onBatch(batch(0, Array.from({ length: 3 }, (_, i) => message(i + 8, article(`a-${i + 8}`))), again));
    expect(again).toEqual(['8', '9', '10']);
    await until(() => kafka.sent.length === 11);
    await pipeline.stop(false);
  });

  it('abandons the work of a revoked partition and does not commit it', async () => {
    const { source, kafka, pipeline, extractor } = setup();
    extractor.delay = (text) => (text.includes('slow') ? 200 : 0);
    await pipeline.onBatch(batch(0, [message(0, article('p0-slow'))]));
    await pipeline.onBatch(batch(1, [message(0, article('p1-fast'))]));
    await until(() => kafka.sent.length === 1);
    source.assigned = new Set([1]);
    pipeline.onAssignment({ added: [], revoked: [0], retained: [1] });
    expect(pipeline.inFlight).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(kafka.sent.map((r) => r.record.key)).toEqual(['p1-fast']);
    expect(source.commits.every((c) => !c.has(0))).toBe(true);
    expect(await pipeline.drain(1000)).toBe(true);
    await pipeline.stop(false);
  });

  it('stops on a systemic error without committing past it', async () => {
    const { source, pipeline, extractor, fatal } = setup();
    extractor.fail = () => new EnricherError('WORKER_INIT_FAILED', 'no worker could load the model');
    await pipeline.onBatch(batch(0, [message(0, article('a'))]));
    await until(() => fatal.length === 1);
    expect(fatal[0]!.code).toBe('WORKER_INIT_FAILED');
    await pipeline.commitAll();
    expect(source.commits.every((c) => !c.has(0) || c.get(0) === 0)).toBe(true);
    await pipeline.stop(true);
  });
});
