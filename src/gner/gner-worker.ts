import { parentPort, workerData } from 'node:worker_threads';
import { wireError } from '../inference/serve.js';
import type { FromGnerWorker, GnerInit, ToGnerWorker } from './gner-protocol.js';
import { serveGner } from './gner-serve.js';
import { GnerModel } from './model.js';

/**
 * GNER worker thread: owns one transformers.js model (encoder and merged-decoder sessions) and
 * answers the pool's requests one article at a time; generation blocks this thread, never the
 * main one. A `cancel` is handled at once (outside the queue): the article stops before its next
 * generate call.
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
  const cancels = new Map<number, AbortController>();
  let chain: Promise<void> = Promise.resolve();
  port!.on('message', (msg: ToGnerWorker) => {
    if (msg.type === 'cancel') return void cancels.get(msg.id)?.abort();
    if (msg.type === 'extract') cancels.set(msg.id, new AbortController());
    chain = chain.then(async () => {
      if (msg.type === 'shutdown') {
        await model.release();
        port!.close();
        return;
      }
      try {
        post(await serveGner(model, init.settings, msg, cancels.get(msg.id)?.signal));
      } catch (err) {
        // A reply that cannot be posted (not cloneable): answer with the failure, so the article settles.
        post({ type: 'failed', id: msg.id, error: wireError(err) });
      } finally {
        cancels.delete(msg.id);
      }
    });
  });
  post({ type: 'ready', info: model.info });
}

void main();
