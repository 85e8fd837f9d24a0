import { validateDecode } from '../core/defaults.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../core/extraction.js';
import type { ModelInfo } from '../core/types.js';
import { EnricherError, isEnricherError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkGnerRequest, type GnerSettings, type GnerStats } from './extract-fields.js';
import type { FromGnerWorker, GnerInit } from './gner-protocol.js';
import { GNER_WORKER_SCRIPT, localSlot, threadSlot, type GnerSlot, type SlotEvents } from './gner-slots.js';
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
  /** The worker entry relative to inference/worker-slot.ts; tests give one that crashes on demand. */
  workerScript?: string;
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

const RESPAWN_DELAY_MS = [100, 1000, 5000, 30_000];

/**
 * The GNER backend's extractor: whole articles go to idle slots (`gner-slots.ts`: a worker thread
 * each with its own transformers.js model, or the calling thread), one article per slot at a time;
 * inside a slot an article's sentences are generated in batches of `GNER_BATCH_SIZE`. Generation is
 * long (the output repeats the input), so parallelism comes from articles on several workers, not
 * from mixing articles in a batch.
 *
 * Failures: a worker that dies is replaced (with backoff while replacements fail to load) and its
 * article retried once; an article that stops a second worker fails with INFERENCE_FAILED. While
 * no worker is alive, queued articles fail with WORKER_CRASHED (retriable) instead of waiting. An
 * aborted article in flight is cancelled in its worker before the next generate call.
 */
export class GnerPool implements EntityExtractor {
  private readonly slots: GnerSlot[] = [];
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<number, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: Logger;
  private readonly events: SlotEvents = { reply: (s, m) => this.onReply(s, m), crashed: (s, r) => this.onCrash(s, r) };
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
      const onAbort = (): void => this.abort(p);
      const p: Pending = { id: this.nextId++, request, attempts: 0, settled: false, resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(p);
      this.pump();
    });
  }

  /**
   * Idempotent and ordered: no new replacement workers, queued and in-flight articles reject with
   * POOL_CLOSED, then every slot releases its model (a worker that does not exit in time is terminated).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      const closed = new EnricherError('POOL_CLOSED', 'GNER pool closed');
      for (const p of [...this.queue, ...this.inFlight.values()]) this.settle(p, closed);
      await Promise.all(this.slots.map((s) => s.shutdown()));
    })();
    return this.closing;
  }

  private async spawn(index: number, attempt: number): Promise<void> {
    if (this.closing) return;
    const init: GnerInit = { modelDir: this.options.modelDir, load: this.options.load, settings: this.options.settings };
    const slot = this.options.workers === 0 ? await localSlot(index, init, this.events) : threadSlot(index, init, this.events, this.options.workerScript ?? GNER_WORKER_SCRIPT);
    this.slots[index] = slot;
    try {
      const info = await slot.ready;
      this.info ??= info;
    } catch (err) {
      if (attempt === 0 || this.closing) throw err;
      const delay = RESPAWN_DELAY_MS[Math.min(attempt, RESPAWN_DELAY_MS.length - 1)]!;
      this.log.error({ err, worker: index, retryInMs: delay }, 'GNER worker failed to start');
      this.failQueuedIfNoWorker();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.spawn(index, attempt + 1).catch(() => undefined);
      }, delay);
      timer.unref();
      this.timers.add(timer);
      return;
    }
    if (this.closing) return void slot.shutdown();
    this.pump();
  }

  private pump(): void {
    if (this.closing || this.info === undefined) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot === undefined || !slot.alive || !slot.started || slot.busy !== undefined) continue;
      const p = this.queue.shift()!;
      slot.busy = p.id;
      p.attempts += 1;
      this.inFlight.set(p.id, p);
      const { fields, labels, decode, taskPrompt, relations } = p.request;
      slot.post({ type: 'extract', id: p.id, request: { fields, labels, decode, ...(taskPrompt !== undefined ? { taskPrompt } : {}), ...(relations !== undefined ? { relations } : {}) } });
    }
  }

  private abort(p: Pending): void {
    const slot = this.slots.find((s) => s?.busy === p.id);
    // In flight: the worker stops before its next generate call and replies `failed`, freeing the slot.
    if (slot !== undefined && slot.alive) slot.post({ type: 'cancel', id: p.id });
    this.settle(p, new EnricherError('ABORTED', 'extraction aborted'));
  }

  private onReply(slot: GnerSlot, msg: Extract<FromGnerWorker, { type: 'extracted' | 'failed' }>): void {
    if (slot.busy === msg.id) slot.busy = undefined;
    const p = this.inFlight.get(msg.id);
    this.inFlight.delete(msg.id);
    if (p !== undefined) {
      if (msg.type === 'extracted') {
        this.options.onArticle?.(msg.stats, msg.ms);
        if (msg.stats.capped > 0) {
          this.log.warn({ capped: msg.stats.capped, prompts: msg.stats.prompts }, 'GNER generations hit the token cap (GNER_MAX_NEW_TOKENS): their last words read as O');
        }
        this.settle(p, undefined, msg.results);
      } else this.settle(p, new EnricherError(msg.error.code, msg.error.message));
    }
    this.pump();
  }

  private onCrash(slot: GnerSlot, reason: EnricherError): void {
    const id = slot.busy;
    slot.busy = undefined;
    if (this.closing) return;
    this.log.error({ err: reason, worker: slot.index }, 'GNER worker died; starting a new one');
    const p = id === undefined ? undefined : this.inFlight.get(id);
    if (p !== undefined) {
      this.inFlight.delete(p.id);
      if (p.attempts >= 2) this.settle(p, new EnricherError('INFERENCE_FAILED', `the article stopped two GNER workers: ${reason.message}`));
      else if (!p.settled) this.queue.unshift(p);
    }
    // The article waits for the replacement (or takes another idle worker now); only a replacement
    // that fails to load fails the queue (spawn), so a poison article meets its second worker.
    this.pump();
    void this.spawn(slot.index, 1).catch(() => undefined);
  }

  /** When replacements fail to load and no worker is alive, waiting articles fail (retriable) rather than hold the service's slots. */
  private failQueuedIfNoWorker(): void {
    if (this.slots.some((s) => s !== undefined && s.alive && s.started)) return;
    const down = new EnricherError('WORKER_CRASHED', 'no GNER worker is running (a replacement is starting)');
    for (const p of [...this.queue]) this.settle(p, down);
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
