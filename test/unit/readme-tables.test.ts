/** The README documents every environment variable (with its real default) and every error code. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config-load.js';
import { ConfigSchema } from '../../src/config.js';
import { ERROR_CATALOG } from '../../src/errors.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the markdown table that follows `## <heading>`, as trimmed cells. */
function table(heading: string): string[][] {
  const section = README.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (section === undefined) throw new Error(`README has no "## ${heading}" section`);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replace(/\\\|/g, '|')),
    );
}

const unquote = (cell: string): string => cell.replace(/^`|`$/g, '');

function formatDefault(value: unknown): string {
  if (value === undefined) return '—';
  // A list; empty shows as none, like an unset value.
  if (Array.isArray(value)) return value.length === 0 ? '—' : `\`${value.join(',')}\``;
  // A map written as VALUE=x,… in the environment; empty shows as none.
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    return entries.length === 0 ? '—' : `\`${entries.map(([k, v]) => `${k}=${String(v)}`).join(',')}\``;
  }
  return `\`${String(value)}\``;
}

describe('README "Configuration"', () => {
  const rows = table('Configuration');
  const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
  const at = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], defaults);

  it('lists exactly the variables of ENV_VARS (and CONFIG_FILE)', () => {
    expect(rows.map((r) => unquote(r[0]!)).sort()).toEqual([...Object.keys(ENV_VARS), 'CONFIG_FILE'].sort());
  });

  it('names the right config key and the real default of each', () => {
    for (const [name, key, def] of rows) {
      const v = unquote(name!);
      if (v === 'CONFIG_FILE') continue;
      expect(unquote(key!), v).toBe(ENV_VARS[v]);
      expect(def, v).toBe(formatDefault(at(ENV_VARS[v]!)));
    }
  });

  it('every variable reaches its config key', () => {
    const config = loadConfig({ env: { KAFKA_MAX_MESSAGE_BYTES: '2000000', ELASTICSEARCH_VERSION_EPOCH: '3', INFERENCE_CONCURRENCY: '7', LIVENESS_STALL_MS: '5000' } });
    expect(config.kafka.maxMessageBytes).toBe(2_000_000);
    expect(config.elasticsearch.versionEpoch).toBe(3);
    expect(config.inference.concurrency).toBe(7);
    expect(config.livenessStallMs).toBe(5000);
    expect(() => loadConfig({ env: { ELASTICSEARCH_VERSION_EPOCH: '512' } })).toThrow(/versionEpoch \(ELASTICSEARCH_VERSION_EPOCH\)/);
  });
});

describe('README "Error codes"', () => {
  it('documents every code of the catalog with its retriable flag and description', () => {
    const rows = table('Error codes');
    expect(rows.map((r) => unquote(r[0]!))).toEqual(Object.keys(ERROR_CATALOG));
    for (const [code, retriable, description] of rows) {
      const spec = ERROR_CATALOG[unquote(code!) as keyof typeof ERROR_CATALOG];
      expect(retriable, code).toBe(spec.retriable ? 'yes' : 'no');
      expect(description, code).toBe(spec.description);
    }
  });
});
