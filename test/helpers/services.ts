/**
 * TypeScript front of `scripts/services.sh`: start, stop and restart the local Kafka and
 * Elasticsearch used by integration tests. No vitest imports here: the global setup (main
 * process) and test files (workers) both use it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** A service managed by `scripts/services.sh`. */
export type ServiceName = 'kafka' | 'es';

/** Repository root (two levels above this file). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

/** Environment variable holding each service's connection string. */
export const ENDPOINT_ENV: Readonly<Record<ServiceName, 'KAFKA_BROKERS' | 'ELASTICSEARCH_URL'>> = Object.freeze({
  kafka: 'KAFKA_BROKERS',
  es: 'ELASTICSEARCH_URL',
});

export interface ScriptOptions {
  /**
   * Kill the script after this long. Covers a first download, JVM start and readiness wait.
   * @defaultValue 600_000
   */
  readonly timeoutMs?: number;
  /**
   * Forward the script's progress lines (stderr) to this process's stderr.
   * @defaultValue true
   */
  readonly echo?: boolean;
  /** Extra environment for the script (ports, heap, …); merged over `process.env`. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface StartOptions extends ScriptOptions {
  /**
   * Keep the data directory of a previous run (for a stop/start cycle mid-test).
   * @defaultValue false
   */
  readonly keepData?: boolean;
}

interface ScriptResult {
  readonly code: number;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `scripts/services.sh <args>`; resolves with its exit code and output (never rejects on exit code). */
function runScript(args: readonly string[], options: ScriptOptions = {}): Promise<ScriptResult> {
  const { timeoutMs = 600_000, echo = true, env } = options;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      if (echo) process.stderr.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${SCRIPT}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal === null ? 1 : 128),
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function failure(args: readonly string[], result: ScriptResult): Error {
  const tail = result.stderr.trimEnd().split('\n').slice(-60).join('\n');
  const how = result.timedOut ? 'timed out' : `exited with ${result.code}`;
  return new Error(`scripts/services.sh ${args.join(' ')} ${how}\n${tail}`);
}

/** Parses the `KEY=value` lines the script prints on stdout. */
function parseEndpoints(stdout: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) found.set(m[1], m[2]);
  }
  return found;
}

/**
 * Starts one service (downloading it on first use) and waits until it is ready.
 * Idempotent: when it already runs, resolves with its endpoint without restarting it.
 * @returns the connection string: `host:port` for Kafka, an `http://` URL for Elasticsearch.
 */
export async function startService(name: ServiceName, options: StartOptions = {}): Promise<string> {
  return (await startServiceEndpoints(name, options)).get(ENDPOINT_ENV[name])!;
}

/**
 * Starts one service like {@link startService} and returns every `KEY=value` line the script
 * printed: with `SERVICES_SECURITY=1` also the secured endpoint, CA file and credentials
 * (`KAFKA_SECURE_BROKERS`, `KAFKA_SSL_CA_FILE`, `ELASTICSEARCH_USERNAME`, …).
 */
export async function startServiceEndpoints(name: ServiceName, options: StartOptions = {}): Promise<ReadonlyMap<string, string>> {
  const args = ['start', name, ...(options.keepData === true ? ['--keep-data'] : [])];
  const result = await runScript(args, options);
  if (result.code !== 0) throw failure(args, result);
  const endpoints = parseEndpoints(result.stdout);
  if (!endpoints.has(ENDPOINT_ENV[name])) throw new Error(`scripts/services.sh ${args.join(' ')} printed no ${ENDPOINT_ENV[name]}`);
  return endpoints;
}

/** Stops one service (SIGTERM, then SIGKILL after a timeout). Safe when it is not running. */
export async function stopService(name: ServiceName, options: ScriptOptions = {}): Promise<void> {
  const result = await runScript(['stop', name], options);
  if (result.code !== 0) throw failure(['stop', name], result);
}

/** Stops and starts one service, keeping its data. */
export async function restartService(name: ServiceName, options: ScriptOptions = {}): Promise<string> {
  await stopService(name, options);
  return startService(name, { ...options, keepData: true });
}

/** Whether the script's pid file points at a live process of this service. */
export async function isServiceRunning(name: ServiceName, options: ScriptOptions = {}): Promise<boolean> {
  const result = await runScript(['status', name], { echo: false, ...options });
  if (result.code === 0) return true;
  if (result.code === 3) return false;
  throw failure(['status', name], result);
}

/** A TCP port free on 127.0.0.1 right now (for the ports of a second, private instance). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Deletes a private instance's `SVC_DIR` and the directory under /var/tmp where the script puts
 * Elasticsearch's state when its user cannot reach `SVC_DIR` (stop the services first).
 */
export async function removeServiceDir(svcDir: string): Promise<void> {
  await rm(svcDir, { recursive: true, force: true });
  const hash = createHash('sha256').update(svcDir).digest('hex').slice(0, 12);
  await rm(`/var/tmp/news-entity-enricher-svc-${hash}`, { recursive: true, force: true });
}
