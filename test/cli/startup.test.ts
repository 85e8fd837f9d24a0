/**
 * `run` and `produce` fail on a known problem with one coded line, before opening anything
 * (issue 9): no MODEL_DIR or a window setting the model cannot take is CONFIG_INVALID before
 * the HTTP port opens; an unreachable broker is KAFKA_UNAVAILABLE within the connect timeout.
 * Needs `npm run build` (dist/cli.js); no Kafka or Elasticsearch.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = `${ROOT}dist/cli.js`;
const MODEL = `${ROOT}test/fixtures/models/tiny-span`;

function cli(args: string[], env: Record<string, string>, input = '') {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'info', HTTP_PORT: '0', ...env },
  });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const json = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return { raw: l };
    }
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json, ms: Date.now() - t0 };
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('news-enricher run: configuration errors before any port opens', () => {
  it('without MODEL_DIR', () => {
    const r = cli(['run'], { ELASTICSEARCH_URL: 'http://elastic:pw-Zq81@127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.json.at(-1)).toMatchObject({ level: 'fatal', code: 'CONFIG_INVALID' });
    expect(r.json.some((l) => l['msg'] === 'http listening'), r.stdout).toBe(false);
    // The start-up configuration line names the URL without its password.
    expect(r.stdout).toContain('elastic:[redacted]@127.0.0.1:9');
    expect(`${r.stdout}${r.stderr}`).not.toContain('pw-Zq81');
  });

  for (const [name, env, expected] of [
    ['WINDOW_OVERLAP_WORDS=10', { WINDOW_OVERLAP_WORDS: '10' }, /WINDOW_OVERLAP_WORDS.*22\.\.191/],
    ['WINDOW_WORDS=1000', { WINDOW_WORDS: '1000' }, /WINDOW_WORDS.*max_len of 384/],
  ] as const) {
    it(`with ${name}, which the model cannot take`, () => {
      const r = cli(['run'], { MODEL_DIR: MODEL, KAFKA_BROKERS: '127.0.0.1:9', ELASTICSEARCH_URL: 'http://127.0.0.1:9', ...env });
      expect(r.code).toBe(1);
      const last = r.json.at(-1)!;
      expect(last).toMatchObject({ level: 'fatal', code: 'CONFIG_INVALID' });
      expect(String(last['message'])).toMatch(expected);
      expect(r.json.some((l) => l['msg'] === 'http listening' || l['msg'] === 'model loaded')).toBe(false);
    });
  }
});

describe('news-enricher produce', () => {
  it('reports an unreachable broker as one KAFKA_UNAVAILABLE line within the connect timeout', async () => {
    const port = await closedPort();
    const r = cli(['produce', '--topic', 't'], { KAFKA_BROKERS: `127.0.0.1:${port}` }, '{"id":"a","body":"x"}\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'fatal', code: 'KAFKA_UNAVAILABLE' });
    expect(r.ms).toBeLessThan(5_000 + 3_000); // connect timeout + process start
  });

  it('reports a missing input file as CONFIG_INVALID before connecting', async () => {
    const port = await closedPort();
    const r = cli(['produce', '--topic', 't', '--input', '/nonexistent.jsonl'], { KAFKA_BROKERS: `127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.json.at(-1)).toMatchObject({ level: 'fatal', code: 'CONFIG_INVALID' });
    expect(String(r.json.at(-1)!['message'])).toContain('/nonexistent.jsonl');
  });
});
