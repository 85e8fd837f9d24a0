/**
 * A GNER worker entry for the pool's failure tests: answers like the real one without a model,
 * and dies (the thread exits) on an article whose first field's text contains "CRASH".
 * `workerData.settings.dataset` "fail-load" makes it fail to load instead.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromGnerWorker, GnerInit, ToGnerWorker } from '../../src/gner/gner-protocol.js';

const port = parentPort!;
const init = workerData as GnerInit;
const post = (m: FromGnerWorker): void => port.postMessage(m);

if (init.settings.dataset === 'fail-load') {
  post({ type: 'init-failed', error: { code: 'WORKER_INIT_FAILED', message: 'fake load failure' } });
} else {
  port.on('message', (msg: ToGnerWorker) => {
    if (msg.type === 'shutdown') return port.close();
    if (msg.type !== 'extract') return;
    if (msg.request.fields[0]?.text.includes('CRASH')) process.exit(3);
    const delay = msg.request.fields[0]?.text.includes('SLOW') ? 300 : 1;
    setTimeout(() => {
      const results = msg.request.fields.map((f) => ({ field: f.field, entities: [], windows: 1, words: f.text.split(' ').length }));
      post({ type: 'extracted', id: msg.id, results, stats: { prompts: 1, batches: 1, generatedTokens: 1, capped: 0 }, ms: delay });
    }, delay);
  });
  post({ type: 'ready', info: { name: 'fake-gner', sha256: '0'.repeat(64), file: 'onnx/decoder_model_merged.onnx', spanMode: 'generative', backend: 'gner', maxLen: 0, maxWidth: 0, executionProvider: 'cpu' } });
}
