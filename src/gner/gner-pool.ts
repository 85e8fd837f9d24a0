import { Worker } from 'node:worker_threads';
import { validateDecode } from '../core/defaults.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../core/extraction.js';
import type { ModelInfo } from '../core/types.js';
import { EnricherError, isEnricherError } from '../errors.js';
import { workerEntry } from '../inference/worker-slot.js';
import type { Logger } from '../logger.js';
import { checkGnerRequest, type GnerSettings, type GnerStats } from './extract-fields.js';
import type { FromGnerWorker, GnerInit, ToGnerWorker } from './gner-protocol.js';
import type { GnerLoadOptions } from './model.js';

export interface GnerPoolOptions {
  modelDir: string;
  load: GnerLoadOptions;
  settings: GnerSettings;
  /** Worker threads; 0 generates on the calling thread (extract, tools). */
  workers: number;
  logger: Logger;
  /** Called after every article, for metrics. */
  onArticle?: (stats: GnerStats, ms: number) => void;
}

interface Pending {
  id: number;
  request: ExtractionRequest;
  attempts: number;
  settled: boolean;
  resolve: (r: FieldEntities[]) => void;
  reject: (e: EnricherError) => void;
  cleanup: () => void;
}

/** A worker thread, or the calling thread (workers 0): the same messages either way. */
interface Slot {
  readonly index: number;
  readonly ready: Promise<ModelInfo>;
  busy: Pending | undefined;
  alive: boolean;
  post(msg: ToGnerWorker): void;
  /** Releases the model and ends the thread; idempotent. */
  shutdown(): Promise<void>;
}

const RESPAWN_DELAY_MS = [100, 1000, 5000, 30_000];

/**
 * The GNER backend's extractor: whole articles go to idle slots (a worker thread each, with its
 * own transformers.js model), one article per slot at a time; inside a slot an article's
 * sentences are generated in batches of `GNER_BATCH_SIZE`. Generation is long (the output
 * repeats the input), so parallelism comes from articles on several workers, not from mixing
 * articles in a batch. A worker that dies is replaced and its article retried once; an article
 * that kills a second worker fails with INFERENCE_FAILED.
 */
export class GnerPool implements EntityExtractor {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly log: Logger;
  private info: ModelInfo | undefined;
  private nextId = 1;
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: GnerPoolOptions) {
    this.log = options.logger.child({ component: 'gner-pool' });
  }

  static async start(options: GnerPoolOptions): Promise<GnerPool> {
    const pool = new GnerPool(options);
    try {
      await Promise.all(Array.from({ length: Math.max(1, options.workers) }, (_, i) => pool.spawn(i, 0)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get model(): ModelInfo {
    if (this.info === undefined) throw new EnricherError('POOL_CLOSED', 'GNER pool has no loaded worker');
    return this.info;
  }

  extract(request: ExtractionRequest, signal?: AbortSignal): Promise<FieldEntities[]> {
    if (this.closing) return Promise.reject(new EnricherError('POOL_CLOSED', 'GNER pool is closed'));
    try {
      validateDecode(request.decode);
      checkGnerRequest(request);
    } catch (err) {
      return Promise.reject(isEnricherError(err) ? err : new EnricherError('OPTIONS_INVALID', String(err)));
    }
    return new Promise<FieldEntities[]>((resolve, reject) => {
      const onAbort = (): void => this.settle(p, new EnricherError('ABORTED', 'extraction aborted'));
      const p: Pending = { id: this.nextId++, request, attempts: 0, settled: false, resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(p);
      this.pump();
    });
  }

  /** Idempotent: queued and in-flight articles reject with POOL_CLOSED, then every slot releases its model. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new EnricherError('POOL_CLOSED', 'GNER pool closed');
      for (const p of this.queue.splice(0)) this.settle(p, closed);
      for (const s of this.slots) if (s.busy) this.settle(s.busy, closed);
      await Promise.all(this.slots.map((s) => s.shutdown()));
    })();
    return this.closing;
  }

  private async spawn(index: number, attempt: number): Promise<void> {
    const init: GnerInit = { modelDir: this.options.modelDir, load: this.options.load, settings: this.options.settings };
    const slot = this.options.workers === 0 ? await this.localSlot(index, init) : this.threadSlot(index, init);
    this.slots[index] = slot;
    try {
      const info = await slot.ready;
      this.info ??= info;
    } catch (err) {
      if (this.closing || attempt === 0) throw err;
      const delay = RESPAWN_DELAY_MS[Math.min(attempt, RESPAWN_DELAY_MS.length - 1)]!;
      this.log.error({ err, worker: index, retryInMs: delay }, 'GNER worker failed to start');
      setTimeout(() => void this.spawn(index, attempt + 1).catch(() => undefined), delay).unref();
      return;
    }
    if (this.closing) return void slot.shutdown();
    this.pump();
  }

  private threadSlot(index: number, init: GnerInit): Slot {
    const { entry, eval: isEval } = workerEntry('../gner/gner-worker');
    const worker = new Worker(entry, { workerData: init, eval: isEval });
    let settle: { resolve: (i: ModelInfo) => void; reject: (e: EnricherError) => void } | undefined;
    const ready = new Promise<ModelInfo>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => undefined);
    let exited: Promise<void> | undefined;
    const slot: Slot = {
      index,
      ready,
      busy: undefined,
      alive: true,
      post: (msg) => worker.postMessage(msg),
      shutdown: () => {
        if (!slot.alive) return exited ?? Promise.resolve();
        exited ??= new Promise<void>((resolve) => {
          worker.once('exit', () => resolve());
          worker.postMessage({ type: 'shutdown' } satisfies ToGnerWorker);
          setTimeout(() => void worker.terminate(), 5000).unref();
        });
        return exited;
      },
    };
    worker.on('message', (msg: FromGnerWorker) => {
      if (msg.type === 'ready') settle?.resolve(msg.info);
      else if (msg.type === 'init-failed') {
        // The start (or respawn) that awaits `ready` handles this failure; the exit is not a crash.
        slot.alive = false;
        settle?.reject(new EnricherError(msg.error.code, `GNER worker ${index} could not load the model: ${msg.error.message}`));
        void worker.terminate();
      } else this.onReply(slot, msg);
    });
    const died = (reason: EnricherError): void => {
      if (!slot.alive) return;
      slot.alive = false;
      settle?.reject(reason);
      this.onExit(slot, reason);
    };
    worker.on('error', (err) => died(new EnricherError('WORKER_CRASHED', `GNER worker ${index} failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => died(new EnricherError('WORKER_CRASHED', `GNER worker ${index} exited with code ${code}`)));
    return slot;
  }

  /** A slot on this thread: transformers.js (and so ONNX Runtime) is imported only here. */
  private async localSlot(index: number, init: GnerInit): Promise<Slot> {
    const [{ GnerModel }, { serveGner }] = await Promise.all([import('./model.js'), import('./gner-serve.js')]);
    const model = GnerModel.load(init.modelDir, init.load);
    let chain: Promise<void> = Promise.resolve();
    const slot: Slot = {
      index,
      ready: model.then((m) => m.info),
      busy: undefined,
      alive: true,
      post: (msg) => {
        if (msg.type === 'shutdown') return;
        chain = chain.then(async () => {
          const reply = await serveGner(await model, init.settings, msg);
          if (slot.alive) this.onReply(slot, reply);
        });
      },
      shutdown: async () => {
        slot.alive = false;
        await chain.catch(() => undefined);
        await (await model.catch(() => undefined))?.release();
      },
    };
    slot.ready.catch(() => undefined);
    return slot;
  }

  private pump(): void {
    if (this.closing) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot === undefined || !slot.alive || slot.busy !== undefined || this.info === undefined) continue;
      const p = this.queue.shift()!;
      slot.busy = p;
      p.attempts += 1;
      const { fields, labels, decode, taskPrompt, relations } = p.request;
      slot.post({ type: 'extract', id: p.id, request: { fields, labels, decode, ...(taskPrompt !== undefined ? { taskPrompt } : {}), ...(relations !== undefined ? { relations } : {}) } });
    }
  }

  private onReply(slot: Slot, msg: FromGnerWorker): void {
    if (msg.type === 'ready' || msg.type === 'init-failed') return;
    const p = slot.busy;
    slot.busy = undefined;
    if (p !== undefined && p.id === msg.id) {
      if (msg.type === 'extracted') {
        this.options.onArticle?.(msg.stats, msg.ms);
        if (msg.stats.capped > 0) this.log.debug({ capped: msg.stats.capped, prompts: msg.stats.prompts }, 'GNER generations hit the token cap');
        this.settle(p, undefined, msg.results);
      } else this.settle(p, new EnricherError(msg.error.code, msg.error.message));
    }
    this.pump();
  }

  private onExit(slot: Slot, reason: EnricherError): void {
    const p = slot.busy;
    slot.busy = undefined;
    if (this.closing) return;
    this.log.error({ err: reason, worker: slot.index }, 'GNER worker died; starting a new one');
    if (p !== undefined && !p.settled) {
      if (p.attempts >= 2) this.settle(p, new EnricherError('INFERENCE_FAILED', `the article stopped two GNER workers: ${reason.message}`));
      else this.queue.unshift(p);
    }
    void this.spawn(slot.index, 1).catch(() => undefined);
  }

  private settle(p: Pending, error: EnricherError | undefined, results?: FieldEntities[]): void {
    if (p.settled) return;
    p.settled = true;
    p.cleanup();
    const queued = this.queue.indexOf(p);
    if (queued >= 0) this.queue.splice(queued, 1);
    if (error !== undefined) p.reject(error);
    else p.resolve(results!);
  }
}
