import { errors, type Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EsSink, type EsDocument } from '../../../src/pipeline/es-sink.js';
import { HealthState } from '../../../src/pipeline/health.js';
import { PipelineMetrics } from '../../../src/pipeline/metrics.js';

function responseError(statusCode: number, type: string): errors.ResponseError {
  return new errors.ResponseError({ statusCode, body: { error: { type, reason: type } }, headers: {}, warnings: null, meta: {} } as never);
}

/** A bulk endpoint with per-id behaviour: 'bad' fails the whole request (400), 'busy' is 429 once. */
function fakeClient(): { client: Client; requests: string[][] } {
  const requests: string[][] = [];
  let busy = 0;
  const bulk = async ({ operations }: { operations: Array<Record<string, { _id: string }> | string> }) => {
    const ids = operations.filter((o): o is Record<string, { _id: string }> => typeof o !== 'string').map((o) => o['index']!._id);
    requests.push(ids);
    if (ids.includes('bad')) throw responseError(400, 'action_request_validation_exception');
    return {
      errors: true,
      items: ids.map((id) => {
        if (id === 'conflict') return { index: { status: 409, error: { type: 'version_conflict_engine_exception' } } };
        if (id === 'mapping') return { index: { status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse' } } };
        if (id === 'busy' && busy++ === 0) return { index: { status: 429, error: { type: 'es_rejected_execution_exception' } } };
        return { index: { status: 201 } };
      }),
    };
  };
  return { client: { bulk } as unknown as Client, requests };
}

const doc = (id: string): EsDocument => ({ id, version: 1, json: '{}', bytes: 2 });

describe('EsSink.write', () => {
  it('classifies items, retries the transient ones, bisects a refused request down to its culprit', async () => {
    const { client, requests } = fakeClient();
    const health = new HealthState(['elasticsearch']);
    const sink = new EsSink(client, {
      index: 'i',
      refresh: 'false',
      bulkMaxBytes: 1 << 20,
      backoff: { baseMs: 1, maxMs: 2 },
      installTemplate: false,
      logger: pino({ level: 'silent' }),
      metrics: new PipelineMetrics({ defaultMetrics: false }),
      health,
    });
    const ids = ['a', 'busy', 'conflict', 'bad', 'mapping', 'b', 'c'];
    const results = await sink.write(ids.map(doc), new AbortController().signal);
    expect(results.map((r) => (r.kind === 'rejected' ? `rejected:${r.error.code}` : r.kind))).toEqual([
      'indexed',
      'indexed',
      'superseded',
      'rejected:ES_DOCUMENT_REJECTED',
      'rejected:ES_DOCUMENT_REJECTED',
      'indexed',
      'indexed',
    ]);
    // The refused request was split until 'bad' was alone; 'busy' was retried.
    expect(requests).toContainEqual(['bad']);
    expect(requests.filter((r) => r.includes('busy')).length).toBeGreaterThanOrEqual(3); // whole, bisected half, retry after 429
    expect(health.isOk('elasticsearch')).toBe(true);
  });

  it('splits bulks by size', async () => {
    const { client, requests } = fakeClient();
    const sink = new EsSink(client, {
      index: 'i',
      refresh: 'false',
      bulkMaxBytes: 2048,
      backoff: { baseMs: 1, maxMs: 2 },
      installTemplate: false,
      logger: pino({ level: 'silent' }),
      metrics: new PipelineMetrics({ defaultMetrics: false }),
      health: new HealthState(['elasticsearch']),
    });
    await sink.write(Array.from({ length: 10 }, (_, i) => ({ id: `d${i}`, version: 1, json: 'x'.repeat(500), bytes: 500 })), new AbortController().signal);
    expect(requests.length).toBeGreaterThan(2);
    expect(requests.flat()).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`));
  });
});
