/** Credentials inside URLs never reach a log line (issue 9: ELASTICSEARCH_URL=http://elastic:<password>@host:9200). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../src/config-load.js';
import { createLogger } from '../../src/logger.js';
import { redactDeep, redactUrlCredentials } from '../../src/redact.js';

const SECRET = 'pw-Zq81';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { lines, stream };
}

describe('redactUrlCredentials', () => {
  it('replaces the password of a URL and keeps the user and the address', () => {
    expect(redactUrlCredentials(`http://elastic:${SECRET}@es.local:9200/idx`)).toBe('http://elastic:[redacted]@es.local:9200/idx');
    expect(redactUrlCredentials(`connect to https://u:${SECRET}@a:1 and https://v:x@b:2 failed`)).toBe('connect to https://u:[redacted]@a:1 and https://v:[redacted]@b:2 failed');
    expect(redactUrlCredentials('https://token123@es.local')).toBe('https://[redacted]@es.local');
    expect(redactUrlCredentials(`http://elastic:p@ss${SECRET}@es:9200`)).toBe('http://elastic:[redacted]@es:9200');
    expect(redactUrlCredentials(`kafka-1:9092,user:${SECRET}@kafka-2:9092`)).toBe('kafka-1:9092,user:[redacted]@kafka-2:9092');
  });

  it('leaves text without credentials alone', () => {
    for (const s of ['http://es.local:9200', 'kafka-1:9092,kafka-2:9092', 'mail someone@example.com', 'no url']) expect(redactUrlCredentials(s)).toBe(s);
  });

  it('walks plain objects and arrays, returning the same value when nothing changed', () => {
    const clean = { a: ['x', { b: 'http://h:1' }] };
    expect(redactDeep(clean)).toBe(clean);
    expect(redactDeep({ a: [{ url: `http://u:${SECRET}@h:1` }] })).toEqual({ a: [{ url: 'http://u:[redacted]@h:1' }] });
  });
});

describe('logs', () => {
  it('the start-up configuration line carries no URL credentials', () => {
    const config = loadConfig({ env: { ELASTICSEARCH_URL: `http://elastic:${SECRET}@es.local:9200` } });
    const out = JSON.stringify(redactConfig(config));
    expect(out).not.toContain(SECRET);
    expect(out).toContain('http://elastic:[redacted]@es.local:9200');
  });

  it('redacts URL credentials in messages, fields and errors of every log line', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream).child({ component: 'test' });
    const url = `http://elastic:${SECRET}@es.local:9200`;
    log.info({ config: { elasticsearch: { url } }, urls: [url] }, `connecting to ${url}`);
    log.error({ err: Object.assign(new Error(`request to ${url} failed`), { meta: { node: url } }) }, 'failed');
    log.warn(`plain ${url}`);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).toContain('elastic:[redacted]@es.local:9200');
    }
    expect(JSON.parse(lines[1]!).err.type).toBe('Error');
  });

  it('refuses credentials in the broker list, without echoing them', () => {
    expect(() => loadConfig({ env: { KAFKA_BROKERS: `user:${SECRET}@kafka:9092` } })).toThrow(/kafka\.brokers \(KAFKA_BROKERS\): brokers are host:port/);
    try {
      loadConfig({ env: { KAFKA_BROKERS: `user:${SECRET}@kafka:9092` } });
    } catch (err) {
      expect((err as Error).message).not.toContain(SECRET);
    }
  });
});
