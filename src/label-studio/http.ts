import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { EnricherError, isEnricherError, toEnricherError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LabelStudioBackend } from './backend.js';

/**
 * The ML backend's HTTP face on node:http: routes of label_studio_ml's `api.py`, optional
 * basic auth, bounded JSON bodies, and coded errors — a refused request is 4xx with
 * `{ error: { code, message, retriable } }`, never a crash.
 */

export interface BackendServerOptions {
  readonly backend: LabelStudioBackend;
  readonly port: number;
  readonly host?: string;
  readonly basicAuth?: { readonly user: string; readonly pass: string } | undefined;
  readonly maxRequestBytes: number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Called per /predict with its duration and task count (metrics). */
  readonly onPredict?: (seconds: number, tasks: number, ok: boolean) => void;
}

export interface BackendServer {
  readonly port: number;
  close(): Promise<void>;
}

/** HTTP status of a refusal, by code; everything else is 500 (a model or server problem). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  REQUEST_INVALID: 400,
  LABEL_CONFIG_INVALID: 400,
  LABELS_INVALID: 400,
  OPTIONS_INVALID: 400,
  MESSAGE_TOO_LARGE: 413,
  REQUEST_UNAUTHORIZED: 401,
  CONFIG_INVALID: 409,
  POOL_CLOSED: 503,
  LABEL_STUDIO_UNAVAILABLE: 502,
};

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, err: EnricherError): void {
  const status = STATUS[err.code] ?? 500;
  if (status === 401) res.setHeader('www-authenticate', 'Basic realm="news-enricher"');
  send(res, status, { error: { code: err.code, message: err.message, retriable: err.retriable } });
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new EnricherError('MESSAGE_TOO_LARGE', `request body of ${declared} bytes; at most ${maxBytes} (LABEL_STUDIO_MAX_REQUEST_BYTES)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new EnricherError('MESSAGE_TOO_LARGE', `request body over ${maxBytes} bytes (LABEL_STUDIO_MAX_REQUEST_BYTES)`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new EnricherError('REQUEST_INVALID', `request body is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

function authorized(req: IncomingMessage, auth: { user: string; pass: string }): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const given = Buffer.from(Buffer.from(header.slice(6), 'base64').toString('utf8'));
  const expected = Buffer.from(`${auth.user}:${auth.pass}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startBackendServer(o: BackendServerOptions): Promise<BackendServer> {
  const log = o.logger.child({ component: 'label-studio-http' });
  const { backend } = o;
  const inFlight = new Set<AbortController>();

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    'GET /': async (_req, res) => send(res, 200, backend.health()),
    'GET /health': async (_req, res) => send(res, 200, backend.health()),
    'GET /metrics': async (_req, res) => send(res, 200, await o.registry.metrics(), o.registry.contentType),
    'POST /setup': async (req, res) => send(res, 200, backend.setup(await readJson(req, o.maxRequestBytes))),
    'POST /predict': async (req, res) => {
      const body = await readJson(req, o.maxRequestBytes);
      const abort = new AbortController();
      inFlight.add(abort);
      // A caller that gives up (Label Studio's timeout) frees the model for the next request.
      res.once('close', () => {
        if (!res.writableFinished) abort.abort(new EnricherError('ABORTED', 'the client closed the connection'));
      });
      const started = performance.now();
      const tasks = Array.isArray((body as { tasks?: unknown }).tasks) ? (body as { tasks: unknown[] }).tasks.length : 0;
      try {
        const answer = await backend.predict(body, abort.signal);
        o.onPredict?.((performance.now() - started) / 1000, tasks, true);
        send(res, 200, answer);
      } catch (err) {
        o.onPredict?.((performance.now() - started) / 1000, tasks, false);
        throw err;
      } finally {
        inFlight.delete(abort);
      }
    },
    'POST /webhook': async (req, res) => send(res, 201, backend.webhook(await readJson(req, o.maxRequestBytes))),
    'POST /train': async (req, res) => send(res, 201, backend.train(await readJson(req, o.maxRequestBytes))),
    'GET /versions': async (_req, res) => send(res, 200, { versions: [backend.health().model_version] }),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[`${req.method ?? 'GET'} ${path.length > 1 ? path.replace(/\/+$/u, '') : path}`];
    if (route === undefined) {
      const known = Object.keys(routes).some((k) => k.endsWith(` ${path}`));
      send(res, known ? 405 : 404, { error: { code: 'REQUEST_INVALID', message: known ? `${req.method} not allowed on ${path}` : `no endpoint ${path}`, retriable: false } });
      return;
    }
    // Health stays open for probes (Kubernetes, Label Studio's connection check sends auth anyway).
    if (o.basicAuth !== undefined && path !== '/health' && !authorized(req, o.basicAuth)) {
      throw new EnricherError('REQUEST_UNAUTHORIZED', 'basic auth required (BASIC_AUTH_USER / BASIC_AUTH_PASS)');
    }
    await route(req, res);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = toEnricherError(err, 'INTERNAL');
      if (!isEnricherError(err) || (STATUS[e.code] ?? 500) >= 500) log.error({ err: e, url: req.url }, 'request failed');
      else log.info({ code: e.code, message: e.message, url: req.url }, 'request refused');
      if (!res.headersSent) sendError(res, e);
      else res.end();
    });
  });
  server.requestTimeout = 0; // a 3,000-word task on a busy CPU can take longer than node's default
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new EnricherError('CONFIG_INVALID', `cannot listen on port ${o.port}: ${err.message}`, { cause: err })));
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, basicAuth: o.basicAuth !== undefined }, 'label studio backend listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const a of inFlight) a.abort(new EnricherError('ABORTED', 'the backend is stopping'));
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      })),
  };
}
