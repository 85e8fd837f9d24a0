import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';

/**
 * The service's health as the probes read it: all HTTP knows of the pipeline
 * (`pipeline/health.ts#HealthState` implements it).
 */
export interface HealthProbes {
  readiness(): { readonly ready: boolean; readonly checks: Readonly<Record<string, unknown>> };
  liveness(backlog: number, stallMs: number): { readonly live: boolean };
}

export interface HttpServerOptions {
  /** 0 picks a free port (tests); the bound port is logged and returned. */
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly health: HealthProbes;
  /** Messages in flight, for the liveness progress rule. */
  readonly backlog: () => number;
  readonly livenessStallMs: number;
  readonly logger: Logger;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Probes and metrics on node:http (no framework):
 * - `GET /healthz` — liveness: answers while the event loop runs; 503 when work is pending,
 *   the sinks are reachable and nothing finished for `livenessStallMs`.
 * - `GET /readyz` — readiness: 200 when model, consumer group, Elasticsearch and producer are
 *   all fine; 503 with the failing checks otherwise (e.g. during an Elasticsearch outage).
 * - `GET /metrics` — Prometheus text format from the service's own registry.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const log = options.logger.child({ component: 'http' });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'method not allowed' });
      return;
    }
    switch (path) {
      case '/healthz': {
        const l = options.health.liveness(options.backlog(), options.livenessStallMs);
        send(res, l.live ? 200 : 503, { status: l.live ? 'ok' : 'stalled', ...l });
        return;
      }
      case '/readyz': {
        const r = options.health.readiness();
        send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks });
        return;
      }
      case '/metrics':
        send(res, 200, await options.registry.metrics(), options.registry.contentType);
        return;
      default:
        send(res, 404, { error: 'not found', endpoints: ['/healthz', '/readyz', '/metrics'] });
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'probe handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'http listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
