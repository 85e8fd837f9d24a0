import { parentPort, workerData } from 'node:worker_threads';
import { EnricherError } from '../errors.js';
import { loadModel, type LoadedModel } from '../gliner/model.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { serve, wireError } from './serve.js';

/**
 * Inference worker thread: owns one tokenizer and one ONNX Runtime session and answers the
 * pool's requests through `serve` one at a time; ORT's run blocks this thread, never the
 * main one.
 */

const port = parentPort;
if (port === null) throw new Error('worker.ts must run in a worker thread');

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function handle(model: LoadedModel, msg: ToWorker): Promise<void> {
  if (msg.type === 'shutdown') {
    await model.release();
    port!.close();
    return;
  }
  const reply = await serve(model, msg);
  post(reply.msg, reply.transfer);
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  let model: LoadedModel;
  try {
    model = await loadModel(init.modelDir, init.load);
  } catch (err) {
    post({ type: 'init-failed', error: wireError(err, 'WORKER_INIT_FAILED') });
    return;
  }
  // Requests are handled strictly one after another: ORT's run is synchronous anyway,
  // and ordering keeps a `shutdown` behind the work queued before it.
  let chain: Promise<void> = Promise.resolve();
  port!.on('message', (msg: ToWorker) => {
    chain = chain.then(() => handle(model, msg)).catch(() => undefined);
  });
  post({ type: 'ready', info: model.info });
}

main().catch((err: unknown) => {
  // Unreachable by design (main catches its own failures); make it loud if it happens.
  throw new EnricherError('WORKER_CRASHED', `worker failed: ${(err as Error).message}`, { cause: err });
});
