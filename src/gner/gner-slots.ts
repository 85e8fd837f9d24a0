import { Worker } from 'node:worker_threads';
import type { ModelInfo } from '../core/types.js';
import { EnricherError } from '../errors.js';
import { workerEntry } from '../inference/worker-slot.js';
import type { FromGnerWorker, GnerInit, ToGnerWorker } from './gner-protocol.js';

/**
 * Where a GNER model runs for the pool: a worker thread (the service), or the calling thread
 * (`workers` 0: extract, the library). Both take the same messages and report through the same
 * two events, so the pool does not know which it has.
 */
export interface GnerSlot {
  readonly index: number;
  /** Resolves with the model info once loaded; rejects with the load error (its own code). */
  readonly ready: Promise<ModelInfo>;
  /** `ready` resolved: the slot served (or could serve) work, so its death is a crash to recover from. */
  started: boolean;
  alive: boolean;
  /** Id of the article in flight, if any. */
  busy: number | undefined;
  post(msg: ToGnerWorker): void;
  /** Releases the model and ends the thread; idempotent. */
  shutdown(): Promise<void>;
}

export interface SlotEvents {
  reply(slot: GnerSlot, msg: Extract<FromGnerWorker, { type: 'extracted' | 'failed' }>): void;
  /** A started slot died (thread error or exit). Not called for a slot that never became ready. */
  crashed(slot: GnerSlot, reason: EnricherError): void;
}

/** The worker entry, relative to inference/worker-slot.ts (tests give one that crashes on demand). */
export const GNER_WORKER_SCRIPT = '../gner/gner-worker';

const SHUTDOWN_GRACE_MS = 5000;

export function threadSlot(index: number, init: GnerInit, events: SlotEvents, script = GNER_WORKER_SCRIPT): GnerSlot {
  const { entry, eval: isEval } = workerEntry(script);
  const worker = new Worker(entry, { workerData: init, eval: isEval });
  let settle: { resolve: (i: ModelInfo) => void; reject: (e: EnricherError) => void } | undefined;
  const ready = new Promise<ModelInfo>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => undefined);
  let exited: Promise<void> | undefined;
  const slot: GnerSlot = {
    index,
    ready,
    started: false,
    alive: true,
    busy: undefined,
    post: (msg) => worker.postMessage(msg),
    shutdown: () => {
      exited ??= new Promise<void>((resolve) => {
        if (!slot.alive) return resolve();
        worker.once('exit', () => resolve());
        worker.postMessage({ type: 'shutdown' } satisfies ToGnerWorker);
        const timer = setTimeout(() => void worker.terminate(), SHUTDOWN_GRACE_MS);
        timer.unref();
        worker.once('exit', () => clearTimeout(timer));
      });
      return exited;
    },
  };
  worker.on('message', (msg: FromGnerWorker) => {
    if (msg.type === 'ready') {
      slot.started = true;
      settle?.resolve(msg.info);
    } else if (msg.type === 'init-failed') {
      // Whoever awaits `ready` handles a failed load; the exit that follows is not a crash.
      slot.alive = false;
      settle?.reject(new EnricherError(msg.error.code, `GNER worker ${index} could not load the model: ${msg.error.message}`));
      void worker.terminate();
    } else events.reply(slot, msg);
  });
  const died = (reason: EnricherError): void => {
    if (!slot.alive) return;
    slot.alive = false;
    settle?.reject(reason);
    if (slot.started) events.crashed(slot, reason);
  };
  worker.on('error', (err) => died(new EnricherError('WORKER_CRASHED', `GNER worker ${index} failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => died(new EnricherError('WORKER_CRASHED', `GNER worker ${index} exited with code ${code}`)));
  return slot;
}

/** A slot on the calling thread: transformers.js (and so ONNX Runtime) is imported only here. */
export async function localSlot(index: number, init: GnerInit, events: SlotEvents): Promise<GnerSlot> {
  const [{ GnerModel }, { GnerRequests }] = await Promise.all([import('./model.js'), import('./gner-serve.js')]);
  const model = GnerModel.load(init.modelDir, init.load);
  const requests = new GnerRequests(model, init.settings, (reply) => {
    if (slot.alive) events.reply(slot, reply);
  });
  const slot: GnerSlot = {
    index,
    ready: model.then((m) => m.info),
    started: false,
    alive: true,
    busy: undefined,
    post: (msg) => {
      if (msg.type !== 'shutdown') requests.handle(msg);
    },
    shutdown: async () => {
      slot.alive = false;
      requests.abortAll();
      await requests.drained();
      await (await model.catch(() => undefined))?.release();
    },
  };
  slot.ready.then(
    () => (slot.started = true),
    () => undefined,
  );
  return slot;
}
