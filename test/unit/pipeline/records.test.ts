import { describe, expect, it } from 'vitest';
import { EnricherError } from '../../../src/errors.js';
import { BATCH_OVERHEAD_BYTES, chunkRecords, deadLetterRecord, fits, outputRecord, truncateUtf8 } from '../../../src/pipeline/records.js';

const model = { name: 'tiny-span', sha256: 'ab'.repeat(32), file: 'onnx/model.onnx', spanMode: 'span' as const, maxLen: 384, maxWidth: 12, executionProvider: 'cpu' };

describe('dead-letter records', () => {
  const failedAt = new Date('2026-11-21T10:00:00.000Z');
  const source = { topic: 'news', partition: 3, offset: '1234' };

  it('keep the original key and value bytes and say why and where from', () => {
    const value = Buffer.from([0x7b, 0xff, 0xfe]); // invalid UTF-8 stays byte-identical
    const key = Buffer.from('k1');
    const r = deadLetterRecord({ key, value, source, error: new EnricherError('MESSAGE_INVALID_UTF8', 'message value is not valid UTF-8'), failedAt, maxBytes: 1_000_000 });
    expect(r.key).toBe(key);
    expect(Buffer.compare(r.value as Buffer, value)).toBe(0);
    expect(r.headers).toEqual({
      'x-error-code': 'MESSAGE_INVALID_UTF8',
      'x-error-message': 'message value is not valid UTF-8',
      'x-source-topic': 'news',
      'x-source-partition': '3',
      'x-source-offset': '1234',
      'x-failed-at': '2026-11-21T10:00:00.000Z',
    });
  });

  it('name the article when known, bound the message, truncate a value too large for the topic', () => {
    const long = 'é'.repeat(5000);
    const value = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const r = deadLetterRecord({ key: null, value, source, error: new EnricherError('MESSAGE_TOO_LARGE', long), failedAt, articleId: 'a-1', maxBytes: 1_000_000 });
    expect(r.headers['x-article-id']).toBe('a-1');
    expect(Buffer.byteLength(r.headers['x-error-message']!, 'utf8')).toBeLessThanOrEqual(1024);
    expect(r.headers['x-value-truncated']).toBe(String(5 * 1024 * 1024));
    expect(fits(r, 1_000_000)).toBe(true);
    expect((r.value as Buffer).length).toBeGreaterThan(900_000);
  });

  it('tolerate tombstones', () => {
    const r = deadLetterRecord({ key: null, value: null, source, error: new EnricherError('MESSAGE_INVALID_JSON', 'empty'), failedAt, maxBytes: 1_000_000 });
    expect(r.value).toBeNull();
  });
});

describe('output records', () => {
  it('are keyed by id with model headers', () => {
    const r = outputRecord('id-1', '{"id":"id-1"}', model, '0.1.0');
    expect(r.key).toBe('id-1');
    expect(r.headers).toEqual({ 'x-model': 'tiny-span', 'x-model-sha256': model.sha256, 'x-enricher-version': '0.1.0' });
    expect(r.bytes).toBeGreaterThan(13);
  });
});

describe('truncateUtf8', () => {
  it('never splits a character', () => {
    for (const text of ['aé😀b'.repeat(50), '😀'.repeat(100), 'plain']) {
      for (let max = 4; max < 60; max++) {
        const t = truncateUtf8(text, max);
        expect(Buffer.byteLength(t, 'utf8')).toBeLessThanOrEqual(max);
        if (Buffer.byteLength(text, 'utf8') > max) expect(t.endsWith('...')).toBe(true);
        expect(t).not.toContain('\uFFFD');
      }
    }
  });
});

describe('chunkRecords', () => {
  it('keeps order, bounds chunk size, isolates oversize records', () => {
    const rs = [100, 200, 300, 5000, 50, 50].map((bytes, i) => ({ i, bytes }));
    const chunks = chunkRecords(rs, 700);
    expect(chunks.flat().map((r) => r.i)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const c of chunks) if (c.length > 1) expect(c.reduce((a, r) => a + r.bytes, BATCH_OVERHEAD_BYTES)).toBeLessThanOrEqual(700);
    expect(chunks.find((c) => c.some((r) => r.i === 3))).toHaveLength(1);
  });
});
