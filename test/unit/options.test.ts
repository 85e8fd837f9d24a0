import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config-load.js';
import { engineOptions, ortLogSeverity } from '../../src/inference/options.js';

describe('ONNX Runtime log severity follows LOG_LEVEL', () => {
  it('maps our levels onto ORT severities (0 verbose … 4 fatal)', () => {
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].map((l) => ortLogSeverity(l as never))).toEqual([0, 1, 3, 3, 3, 4, 4]);
    expect(engineOptions(loadConfig({ env: { LOG_LEVEL: 'debug' } })).logSeverity).toBe(1);
    expect(engineOptions(loadConfig({ env: {} })).logSeverity).toBe(3);
  });
});
