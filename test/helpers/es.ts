/**
 * Elasticsearch helpers for integration tests: client, unique index names, readiness and
 * polling, and cleanup of what a test created.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { inject } from 'vitest';
import { waitFor, type WaitForOptions } from './wait-for.js';

export { waitFor, type WaitForOptions };

/** Base URL from the global setup (`inject`) or `ELASTICSEARCH_URL`; throws with advice when absent. */
export function elasticsearchUrl(): string {
  const url = inject('elasticsearchUrl') ?? process.env['ELASTICSEARCH_URL'];
  if (url === undefined || url === '') {
    throw new Error(
      'No Elasticsearch: set ELASTICSEARCH_URL, or run through vitest with test/setup/global-services.ts as globalSetup',
    );
  }
  return url;
}

/** A client for the test node. No sniffing; few retries so a stopped node fails fast. */
export function createEsClient(options: { readonly requestTimeoutMs?: number; readonly maxRetries?: number } = {}): Client {
  return new Client({
    node: elasticsearchUrl(),
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 1,
  });
}

/** A fresh, valid index (or template) name: lowercase, `<prefix>-<time36>-<8 hex>`. */
export function uniqueIndexName(prefix = 'it'): string {
  return `${prefix.toLowerCase()}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Polls `cluster.health` until the node answers yellow or green (use after a restart).
 * Readiness goes through `cluster.health`, not `ping`: the test distribution has no `HEAD /`.
 */
export async function waitForEsHealthy(client: Client, options: WaitForOptions = {}): Promise<void> {
  await waitFor(
    async () => {
      const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '1s' });
      return !health.timed_out && health.status !== 'red';
    },
    { timeoutMs: 120_000, intervalMs: 250, description: 'Elasticsearch health yellow', ...options },
  );
}

/** Records indices and templates a test creates and deletes them in `cleanup()` (missing ones ignored). */
export class EsResources {
  private readonly indices = new Set<string>();
  private readonly indexTemplates = new Set<string>();
  private readonly componentTemplates = new Set<string>();

  constructor(private readonly client: Client) {}

  /** Registers an index (or a wildcard pattern) for deletion; returns the name for chaining. */
  index(name: string): string {
    this.indices.add(name);
    return name;
  }

  indexTemplate(name: string): string {
    this.indexTemplates.add(name);
    return name;
  }

  componentTemplate(name: string): string {
    this.componentTemplates.add(name);
    return name;
  }

  /** Deletes templates first (so nothing recreates an index), then indices; reports every failure. */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const name of this.indexTemplates) {
      await attempt(() => this.client.indices.deleteIndexTemplate({ name }, { ignore: [404] }));
    }
    for (const name of this.componentTemplates) {
      await attempt(() => this.client.cluster.deleteComponentTemplate({ name }, { ignore: [404] }));
    }
    if (this.indices.size > 0) {
      const index = [...this.indices];
      await attempt(() =>
        this.client.indices.delete({ index, ignore_unavailable: true, allow_no_indices: true }, { ignore: [404] }),
      );
    }
    this.indices.clear();
    this.indexTemplates.clear();
    this.componentTemplates.clear();
    if (errors.length > 0) throw new AggregateError(errors, 'EsResources.cleanup: some deletions failed');
  }
}
