import { parentPort, workerData } from 'node:worker_threads';
import { wireError } from '../inference/serve.js';
import type { FromGnerWorker, GnerInit, ToGnerWorker } from './gner-protocol.js';
import { GnerRequests } from './gner-serve.js';
import { GnerModel } from './model.js';

/**
 * GNER worker thread: owns one transformers.js model (encoder and merged-decoder sessions) and
 * answers the pool's requests one article at a time (`GnerRequests`); generation blocks this
 * thread, never the main one. A `shutdown` waits for the articles queued before it.
 */
const port = parentPort;
if (port === null) throw new Error('gner-worker.ts must run in a worker thread');
const post = (msg: FromGnerWorker): void => port.postMessage(msg);

async function main(): Promise<void> {
  const init = workerData as GnerInit;
  let model: GnerModel;
  try {
    model = await GnerModel.load(init.modelDir, init.load);
  } catch (err) {
    post({ type: 'init-failed', error: wireError(err, 'WORKER_INIT_FAILED') });
    return;
  }
  const requests = new GnerRequests(Promise.resolve(model), init.settings, post);
  port!.on('message', (msg: ToGnerWorker) => {
    if (msg.type !== 'shutdown') return requests.handle(msg);
    void requests.drained().then(async () => {
      await model.release();
      port!.close();
    });
  });
  post({ type: 'ready', info: model.info });
}

void main();
