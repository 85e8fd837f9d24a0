import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EnricherError } from '../errors.js';
import type { ModelInfo } from '../core/types.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

/**
 * How to start a worker entry given relative to this module (`./worker` in the build: `.js`).
 * When running from TypeScript sources (tests; decided by this module's own extension), a
 * small bootstrap registers tsx in the thread first (Node 20 ignores `--import` in a
 * worker's execArgv).
 */
export function workerEntry(script = './worker'): { entry: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL(`${script}.js`, import.meta.url), eval: false };
  // The ESM build of tsx's API (resolving through `require` would pick its CommonJS build).
  const tsx = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs');
  const target = new URL(`${script}.ts`, import.meta.url).href;
  const code = `import(${JSON.stringify(pathToFileURL(tsx).href)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return { entry: code, eval: true };
}

/**
 * One worker thread and its life: spawn, ready / init-failed handshake, messages, exit.
 * A slot that exited is dead for good; the pool replaces it with a new slot.
 */
export class WorkerSlot {
  /** Resolves with the model info on `ready`; rejects with the worker's load error (its own code). */
  readonly ready: Promise<ModelInfo>;
  /** An `infer` job is running (ORT runs one batch at a time per session). */
  inferring = false;
  private alive = true;
  private readonly worker: Worker;

  constructor(
    readonly index: number,
    init: WorkerInit,
    onMessage: (slot: WorkerSlot, msg: FromWorker) => void,
    onExit: (slot: WorkerSlot, reason: EnricherError) => void,
  ) {
    const { entry, eval: isEval } = workerEntry();
    this.worker = new Worker(entry, { workerData: init, eval: isEval });
    let settle: { resolve: (i: ModelInfo) => void; reject: (e: EnricherError) => void } | undefined;
    this.ready = new Promise<ModelInfo>((resolve, reject) => (settle = { resolve, reject }));
    // Keep an unhandled rejection from surfacing when nobody awaits a replacement slot.
    this.ready.catch(() => undefined);

    this.worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') settle?.resolve(msg.info);
      else if (msg.type === 'init-failed') {
        settle?.reject(new EnricherError(msg.error.code, `inference worker ${index} could not load the model: ${msg.error.message}`));
        this.stop();
      } else onMessage(this, msg);
    });
    const died = (reason: EnricherError): void => {
      if (!this.alive) return;
      this.alive = false;
      settle?.reject(reason);
      onExit(this, reason);
    };
    this.worker.on('error', (err) =>
      died(new EnricherError('WORKER_CRASHED', `worker ${index} failed: ${err.message}`, { cause: err })),
    );
    this.worker.on('exit', (code) => died(new EnricherError('WORKER_CRASHED', `worker ${index} exited with code ${code}`)));
  }

  get isAlive(): boolean {
    return this.alive;
  }

  send(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  /** Asks the worker to release its session and exit; terminates it if it does not within `graceMs`. */
  async shutdown(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.send({ type: 'shutdown' });
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Immediate termination (failed init, pool teardown). */
  stop(): void {
    void this.worker.terminate();
  }
}
