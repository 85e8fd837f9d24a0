import { loadModel, type LoadedModel } from '../gliner/model.js';
import type { ModelInfo } from '../core/types.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { serve } from './serve.js';

/**
 * An inference slot on the calling thread (`inference.workers` = 0): the same requests and
 * replies as a worker thread (`serve`), without a thread. For the library API, tools and
 * tests; tokenization then runs on the caller's event loop (ONNX Runtime's run does not).
 */
export class LocalSlot {
  readonly ready: Promise<ModelInfo>;
  inferring = false;
  private readonly model: Promise<LoadedModel>;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly index: number,
    init: WorkerInit,
    private readonly onMessage: (slot: LocalSlot, msg: FromWorker) => void,
  ) {
    this.model = loadModel(init.modelDir, init.load);
    this.ready = this.model.then((m) => m.info);
    this.ready.catch(() => undefined);
  }

  get isAlive(): boolean {
    return !this.stopped;
  }

  /** Queues a request behind the previous ones; the reply arrives asynchronously, as from a thread. */
  send(msg: ToWorker, _transfer?: ArrayBuffer[]): void {
    if (msg.type === 'shutdown') return void this.shutdown();
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      const reply = await serve(await this.model, msg);
      if (!this.stopped) this.onMessage(this, reply.msg);
    });
  }

  /** Idempotent: drops queued work (the pool has failed its requests already) and releases the session. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.chain.catch(() => undefined);
    const model = await this.model.catch(() => undefined);
    await model?.release();
  }

  stop(): void {
    void this.shutdown();
  }
}
