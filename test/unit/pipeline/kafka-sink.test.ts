import { describe, expect, it } from 'vitest';
import { keyOfLine } from '../../../src/cli/produce.js';
import { isFenced, kafkaErrorTypes, transactionalId } from '../../../src/pipeline/kafka-sink.js';

describe('kafka sink helpers', () => {
  it('names one transactional id per group and input partition', () => {
    expect(transactionalId('enricher', 'g1', 'news', 3)).toBe('enricher.g1.news.3');
    expect(transactionalId('enricher', 'g1', 'news', 3)).not.toBe(transactionalId('enricher', 'g2', 'news', 3));
  });

  it('recognises fencing through kafkajs error wrappers', () => {
    const fenced = { name: 'KafkaJSNumberOfRetriesExceeded', cause: { name: 'KafkaJSProtocolError', type: 'INVALID_PRODUCER_EPOCH' } };
    expect(kafkaErrorTypes(fenced)).toEqual(['INVALID_PRODUCER_EPOCH']);
    expect(isFenced(fenced)).toBe(true);
    expect(isFenced({ originalError: { type: 'PRODUCER_FENCED' } })).toBe(true);
    expect(isFenced({ type: 'REQUEST_TIMED_OUT' })).toBe(false);
    expect(isFenced(new Error('x'))).toBe(false);
  });
});

describe('produce command keys', () => {
  it('uses the line id as key, none for other lines', () => {
    expect(keyOfLine('{"id":"a-1","body":"x"}')).toBe('a-1');
    expect(keyOfLine('{"body":"x"}')).toBeNull();
    expect(keyOfLine('{"id": 5}')).toBeNull();
    expect(keyOfLine('{not json')).toBeNull();
  });
});
