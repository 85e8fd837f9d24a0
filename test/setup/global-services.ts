/**
 * Vitest `globalSetup`: provides a real Kafka and Elasticsearch to integration tests.
 *
 * - `KAFKA_BROKERS` / `ELASTICSEARCH_URL` already set: those are used and nothing is started
 *   (one set, the other not: only the missing one is started).
 * - Otherwise the missing services are started with `scripts/services.sh`, but only when the run
 *   includes a file under `test/integration/`: the run's spec paths are read from
 *   `project.vitest.state` (Vitest records them before it calls global setups). In watch mode a
 *   later rerun that brings in an integration file starts them then. `TEST_SERVICES=always|never`
 *   overrides the detection.
 * - Endpoints reach the tests as `process.env.KAFKA_BROKERS` / `process.env.ELASTICSEARCH_URL`
 *   (forks inherit the env) and through `inject('kafkaBrokers' | 'elasticsearchUrl')`;
 *   `inject('managedServices')` lists those run by `scripts/services.sh` (a test may stop/restart them).
 * - Teardown stops only what this setup started; services that were already running are left alone.
 */
import { relative, sep } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ENDPOINT_ENV, REPO_ROOT, isServiceRunning, startService, stopService, type ServiceName } from '../helpers/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated `host:port` list; absent when the run needs no services. */
    kafkaBrokers?: string;
    /** Elasticsearch base URL; absent when the run needs no services. */
    elasticsearchUrl?: string;
    /** Services run by scripts/services.sh (not external endpoints): tests may stop and restart them. */
    managedServices?: ServiceName[];
  }
}

const INTEGRATION_DIR = `test${sep}integration${sep}`;
const SERVICES: readonly ServiceName[] = ['kafka', 'es'];

type Mode = 'auto' | 'always' | 'never';

function mode(): Mode {
  const raw = process.env['TEST_SERVICES'] ?? 'auto';
  if (raw === 'auto' || raw === 'always' || raw === 'never') return raw;
  throw new Error(`TEST_SERVICES must be auto, always or never (got '${raw}')`);
}

function isIntegrationPath(path: string): boolean {
  return relative(REPO_ROOT, path).startsWith(INTEGRATION_DIR);
}

/** Whether the spec paths of the current run include an integration test; `undefined` when unknown. */
function runIncludesIntegration(project: TestProject): boolean | undefined {
  try {
    // `state` is marked experimental in Vitest 3.2; guard its shape rather than trust it.
    const paths: unknown = project.vitest.state.getPaths();
    if (!Array.isArray(paths)) return undefined;
    return paths.some((p) => typeof p === 'string' && isIntegrationPath(p));
  } catch (err) {
    log(`could not read the run's spec paths: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

function log(message: string): void {
  process.stderr.write(`[global-services] ${message}\n`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: ServiceName[] = [];
  let ready: Promise<void> | undefined;

  /** Resolves endpoints once per Vitest process (memoised; a failure is retried on the next call). */
  const ensureServices = (): Promise<void> => {
    ready ??= provideServices(project, started).catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };

  const teardown = async (): Promise<void> => {
    await ready?.catch(() => undefined);
    const errors: unknown[] = [];
    for (const name of [...started].reverse()) {
      try {
        await stopService(name);
      } catch (err) {
        errors.push(err);
      }
    }
    started.length = 0;
    if (errors.length > 0) throw new AggregateError(errors, 'global-services: could not stop every service');
  };

  const m = mode();
  if (m === 'never') return teardown;
  const include = m === 'always' ? true : runIncludesIntegration(project);
  if (include === false) {
    // Watch mode: start services when a rerun brings integration files in.
    project.onTestsRerun(async (specs) => {
      if (specs.some((spec) => isIntegrationPath(spec.moduleId))) await ensureServices();
    });
    return teardown;
  }
  if (include === undefined) log('cannot tell whether integration tests run (vitest state API changed?); starting services');
  await ensureServices();
  return teardown;
}

async function provideServices(project: TestProject, started: ServiceName[]): Promise<void> {
  const managed: ServiceName[] = [];
  for (const name of SERVICES) {
    const envName = ENDPOINT_ENV[name];
    let endpoint = process.env[envName];
    if (endpoint !== undefined && endpoint !== '') {
      log(`${name}: using ${envName}=${endpoint} (not started here)`);
    } else if (await isServiceRunning(name)) {
      endpoint = await startService(name); // already running: returns its endpoint without a restart
      log(`${name}: reusing the instance already started by scripts/services.sh (left running at teardown)`);
      managed.push(name);
    } else {
      endpoint = await startService(name);
      started.push(name);
      managed.push(name);
    }
    process.env[envName] = endpoint;
  }
  project.provide('kafkaBrokers', process.env['KAFKA_BROKERS']);
  project.provide('elasticsearchUrl', process.env['ELASTICSEARCH_URL']);
  project.provide('managedServices', managed);
}
