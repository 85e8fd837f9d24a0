import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../../src/http/server.js';
import { HealthState } from '../../../src/pipeline/health.js';
import { PipelineMetrics } from '../../../src/pipeline/metrics.js';

describe('probes and metrics over HTTP', () => {
  let server: HttpServer | undefined;
  afterEach(async () => server?.close());

  it('answers /readyz from the checks, /healthz from progress, /metrics from its own registry', async () => {
    let now = 1_000_000;
    const health = new HealthState(['model', 'elasticsearch'], () => now);
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    let backlog = 0;
    server = await startHttpServer({ port: 0, registry: metrics.registry, health, backlog: () => backlog, livenessStallMs: 60_000, logger: pino({ level: 'silent' }) });
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${server!.port}${path}`);
      return { status: res.status, text: await res.text() };
    };

    expect((await get('/readyz')).status).toBe(503);
    health.set('model', true);
    health.set('elasticsearch', true);
    expect((await get('/readyz')).status).toBe(200);
    health.set('elasticsearch', false, 'Elasticsearch unreachable (ConnectionError)');
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.text).checks.elasticsearch.detail).toContain('unreachable');

    // Liveness: a sink outage is not a liveness failure; a stall with sinks up is.
    backlog = 5;
    now += 120_000;
    expect((await get('/healthz')).status).toBe(200);
    health.set('elasticsearch', true);
    expect((await get('/healthz')).status).toBe(503);
    health.progress();
    expect((await get('/healthz')).status).toBe(200);

    metrics.messagesOut.inc(3);
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.text).toContain('enricher_messages_out_total 3');
    expect((await get('/nope')).status).toBe(404);
  });
});
