import { describe, expect, it } from 'vitest';
import { EnricherError } from '../../../src/errors.js';
import { classifyFailure } from '../../../src/pipeline/fate.js';

const err = (code: ConstructorParameters<typeof EnricherError>[0]) => new EnricherError(code, code);

describe('classifyFailure', () => {
  it('dead-letters problems of the message itself', () => {
    for (const code of ['MESSAGE_INVALID_JSON', 'MESSAGE_INVALID_UTF8', 'MESSAGE_SCHEMA', 'MESSAGE_TOO_LARGE', 'MESSAGE_TOO_DEEP', 'MESSAGE_NO_ID', 'LABELS_INVALID', 'OUTPUT_TOO_LARGE', 'OUTPUT_INVALID', 'ES_DOCUMENT_REJECTED'] as const) {
      expect(classifyFailure(err(code), 0).kind, code).toBe('dead');
    }
  });

  it('retries an inference failure twice before blaming the article', () => {
    expect(classifyFailure(err('INFERENCE_FAILED'), 0).kind).toBe('retry');
    expect(classifyFailure(err('INFERENCE_FAILED'), 1).kind).toBe('retry');
    expect(classifyFailure(err('INFERENCE_FAILED'), 2).kind).toBe('dead');
  });

  it('retries transient failures, abandons aborted work, stops on systemic errors', () => {
    expect(classifyFailure(err('WORKER_CRASHED'), 5).kind).toBe('retry');
    expect(classifyFailure(err('ES_UNAVAILABLE'), 0).kind).toBe('retry');
    expect(classifyFailure(err('ABORTED'), 0).kind).toBe('abandon');
    // OPTIONS_INVALID: options come from the configuration, never from a message, so
    // dead-lettering on it would send every message to the DLQ for one setting.
    for (const code of ['WORKER_INIT_FAILED', 'SESSION_CREATE_FAILED', 'MODEL_FILE_MISSING', 'OUTPUT_SHAPE', 'CONFIG_INVALID', 'OPTIONS_INVALID', 'INTERNAL'] as const) {
      expect(classifyFailure(err(code), 0).kind, code).toBe('fatal');
    }
  });

  it('wraps unknown errors with the fallback code, keeping the cause', () => {
    const boom = new TypeError('boom');
    const f = classifyFailure(boom, 9);
    expect(f.kind).toBe('dead');
    expect(f.error.code).toBe('INFERENCE_FAILED');
    expect(f.error.cause).toBe(boom);
  });
});
