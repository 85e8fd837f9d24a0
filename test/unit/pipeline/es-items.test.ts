import { describe, expect, it } from 'vitest';
import { classifyBulkItem, documentVersion, VERSION_EPOCH_SHIFT } from '../../../src/pipeline/es-items.js';

describe('classifyBulkItem', () => {
  it('maps statuses to outcomes', () => {
    expect(classifyBulkItem({ status: 201 }).kind).toBe('indexed');
    expect(classifyBulkItem({ status: 200 }).kind).toBe('indexed');
    expect(classifyBulkItem({ status: 409, error: { type: 'version_conflict_engine_exception', reason: 'newer' } }).kind).toBe('superseded');
    expect(classifyBulkItem({ status: 429, error: { type: 'es_rejected_execution_exception' } }).kind).toBe('retry');
    expect(classifyBulkItem({ status: 503, error: { type: 'unavailable_shards_exception' } }).kind).toBe('retry');
    expect(classifyBulkItem({ status: 500 }).kind).toBe('retry');
    const reject = classifyBulkItem({ status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [published_at]' } });
    expect(reject).toEqual({ kind: 'reject', status: 400, reason: '400 document_parsing_exception: failed to parse field [published_at]' });
    expect(classifyBulkItem({ status: 400, error: { type: 'mapper_parsing_exception' } }).kind).toBe('reject');
  });

  it('never dead-letters problems of the cluster or the deployment', () => {
    expect(classifyBulkItem({ status: 404, error: { type: 'index_not_found_exception' } }).kind).toBe('retry');
    expect(classifyBulkItem({ status: 403, error: { type: 'security_exception' } }).kind).toBe('retry');
    expect(classifyBulkItem({ status: 403, error: { type: 'cluster_block_exception' } }).kind).toBe('retry');
    expect(classifyBulkItem({ status: 400, error: { type: 'cluster_block_exception' } }).kind).toBe('retry');
  });
});

describe('documentVersion', () => {
  it('grows with the offset and the epoch and stays a safe integer', () => {
    expect(documentVersion(0, 0)).toBe(1);
    expect(documentVersion(41, 0)).toBe(42);
    expect(documentVersion(0, 1)).toBeGreaterThan(documentVersion(VERSION_EPOCH_SHIFT - 2, 0));
    expect(Number.isSafeInteger(documentVersion(VERSION_EPOCH_SHIFT - 2, 511))).toBe(true);
    expect(() => documentVersion(-1, 0)).toThrow(RangeError);
    expect(() => documentVersion(0, 512)).toThrow(RangeError);
  });
});
