import type { Logger } from '../logger.js';
import { documentVersion } from './es-items.js';
import type { EsDocument, EsSink } from './es-sink.js';
import type { KafkaSink, TopicRecord } from './kafka-sink.js';
import type { Entry, PartitionLane } from './lane.js';
import type { PipelineMetrics } from './metrics.js';
import { deadLetterRecord } from './records.js';

export interface SinkRoundDeps {
  readonly es: EsSink;
  readonly kafka: KafkaSink;
  readonly inputTopic: string;
  /** Empty: no output topic (Elasticsearch only). */
  readonly outputTopic: string;
  readonly dlqTopic: string;
  readonly maxMessageBytes: number;
  readonly exactlyOnce: boolean;
  readonly versionEpoch: number;
  readonly metrics: PipelineMetrics;
  readonly log: Logger;
  /** Exactly-once: a lane's transaction failed; restart its partition from the committed offset. */
  readonly restartLane: (lane: PartitionLane, error: unknown) => void;
}

function byLane(entries: readonly Entry[]): Map<PartitionLane, Entry[]> {
  const m = new Map<PartitionLane, Entry[]>();
  for (const e of entries) {
    const list = m.get(e.lane);
    if (list === undefined) m.set(e.lane, [e]);
    else list.push(e);
  }
  return m;
}

function recordsOf(entries: readonly Entry[], deps: SinkRoundDeps, failedAt: Date): TopicRecord[] {
  const out: TopicRecord[] = [];
  for (const e of entries) {
    const o = e.outcome!;
    if (o.kind === 'enriched') {
      if (deps.outputTopic === '') continue;
      const { record } = o;
      if (record === undefined) throw new Error(`bug: article ${o.id} reached the sinks without its output record`);
      out.push({ topic: deps.outputTopic, record, bytes: record.bytes });
    } else {
      const record = deadLetterRecord({
        key: e.key,
        value: e.value,
        source: { topic: e.lane.topic, partition: e.lane.partition, offset: String(e.offset) },
        error: o.error,
        failedAt,
        ...(o.articleId !== undefined ? { articleId: o.articleId } : {}),
        maxBytes: deps.maxMessageBytes,
      });
      out.push({ topic: deps.dlqTopic, record, bytes: record.bytes });
    }
  }
  return out;
}

/**
 * Applies the effects of finished messages, in offset order per partition: one
 * Elasticsearch bulk for the enriched ones (external version from the offset), then the
 * output and dead-letter records — one produce, or in exactly-once mode one transaction per
 * partition carrying the partition's next offset. Transient sink failures are retried inside
 * the sinks until `signal` aborts (the round then rejects and nothing of it counts as done).
 *
 * @returns the lanes whose entries were released (their trackers advanced).
 */
export async function runSinkRound(entries: readonly Entry[], deps: SinkRoundDeps, signal: AbortSignal): Promise<PartitionLane[]> {
  const { metrics } = deps;
  metrics.sinkBatchSize.observe(entries.length);

  // 1. Elasticsearch
  const enriched = entries.filter((e) => !e.lane.revoked && e.outcome?.kind === 'enriched');
  const docs: EsDocument[] = enriched.map((e) => {
    const o = e.outcome as Extract<Entry['outcome'], { kind: 'enriched' }>;
    return { id: o.id, version: documentVersion(e.offset, deps.versionEpoch), json: o.json, bytes: o.bytes };
  });
  if (docs.length > 0) {
    const results = await deps.es.write(docs, signal);
    results.forEach((r, i) => {
      const e = enriched[i]!;
      if (r.kind === 'rejected') {
        deps.log.warn({ code: r.error.code, message: r.error.message, partition: e.lane.partition, offset: e.offset }, 'document rejected; dead-lettering');
        e.outcome = { kind: 'dead', error: r.error, articleId: (e.outcome as { id: string }).id };
      } else if (r.kind === 'superseded') {
        metrics.superseded.inc();
      }
    });
  }

  // 2. Kafka, then 3. release (done) per lane
  const failedAt = new Date();
  const lanes = byLane(entries);
  const released: PartitionLane[] = [];
  const count = (done: readonly Entry[]): void => {
    for (const e of done) {
      const o = e.outcome!;
      if (o.kind === 'enriched') metrics.messagesOut.inc();
      else metrics.deadLettered.inc({ code: o.error.code });
    }
  };
  if (deps.exactlyOnce) {
    for (const [lane, list] of lanes) {
      if (lane.revoked) continue;
      lane.release(list);
      const next = lane.tracker.committable();
      try {
        await deps.kafka.transact(lane.topic, lane.partition, recordsOf(list, deps, failedAt), next!);
      } catch (err) {
        deps.restartLane(lane, err);
        continue;
      }
      count(list);
      released.push(lane);
    }
    return released;
  }
  const live = [...lanes].filter(([lane]) => !lane.revoked);
  await deps.kafka.send(
    live.flatMap(([, list]) => recordsOf(list, deps, failedAt)),
    signal,
  );
  for (const [lane, list] of live) {
    if (lane.revoked) continue;
    lane.release(list);
    count(list);
    released.push(lane);
  }
  return released;
}
