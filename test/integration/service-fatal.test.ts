/**
 * A failure that is not about one message (here: no worker can run the model) stops the
 * service without committing or dead-lettering, and the stop is logged as what it is — the
 * fatal code and the uncommitted messages — not as a SHUTDOWN_TIMEOUT (issue 9).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnricherError } from '../../src/errors.js';
import type { EntityExtractor } from '../../src/core/extraction.js';
import { createLogger } from '../../src/logger.js';
import { EnricherService, type CloseResult } from '../../src/pipeline/service.js';
import { createEsClient, EsResources } from '../helpers/es.js';
import { produce } from '../helpers/kafka.js';
import { committedOffsets, createPipelineTopics, deletePipelineTopics, serviceConfig, trackEs, uniquePipelineNames } from '../helpers/pipeline.js';

/** An extractor whose every call fails the way a broken model does. */
const broken: EntityExtractor = {
  model: { name: 'broken', sha256: '0'.repeat(64), file: 'onnx/model.onnx', spanMode: 'span', maxLen: 384, maxWidth: 12, executionProvider: 'cpu' },
  extract: () => Promise.reject(new EnricherError('WORKER_INIT_FAILED', 'no worker could load the model')),
  close: () => Promise.resolve(),
};

describe('fatal error', () => {
  const names = uniquePipelineNames('fatal');
  const es = createEsClient();
  const resources = new EsResources(es);
  const logs: Array<Record<string, unknown>> = [];
  let result: CloseResult;

  beforeAll(async () => {
    trackEs(resources, names);
    await createPipelineTopics(names, { partitions: 1 });
    await produce(names.input, [1, 2, 3].map((i) => ({ key: `a-${i}`, value: JSON.stringify({ id: `a-${i}`, body: 'Reuters reported from Paris.' }) })));
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') logs.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const service = await EnricherService.start({ config: serviceConfig(names), logger: createLogger('info', stream), extractor: broken, processMetrics: false });
    const fatal = new Promise<EnricherError>((resolve) => service.onFatal(resolve));
    expect((await fatal).code).toBe('WORKER_INIT_FAILED');
    result = await service.close();
  }, 180_000);

  afterAll(async () => {
    await deletePipelineTopics(names);
    await resources.cleanup();
    await es.close();
  });

  it('reports the fatal error and commits nothing', async () => {
    expect(result.error?.code).toBe('WORKER_INIT_FAILED');
    expect(result.drained).toBe(false);
    const committed = await committedOffsets(names.group, names.input);
    expect(committed.get(0) ?? 0).toBe(0);
  });

  it('logs the stop as a fatal stop, not as a shutdown timeout', () => {
    expect(logs.filter((l) => l['code'] === 'SHUTDOWN_TIMEOUT')).toEqual([]);
    const stop = logs.find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('stopping after a fatal error'));
    expect(stop).toMatchObject({ code: 'WORKER_INIT_FAILED' });
    expect(logs.some((l) => l['msg'] === 'pipeline cannot continue' && l['code'] === 'WORKER_INIT_FAILED')).toBe(true);
  });
});
