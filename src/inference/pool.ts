import { validateDecode, validateRelationRequest } from '../core/defaults.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../core/extraction.js';
import type { WordSpan } from '../core/spans.js';
import type { DecodeOptions, ModelInfo } from '../core/types.js';
import { EnricherError, isEnricherError, toEnricherError, type ErrorCode } from '../errors.js';
import type { LoadOptions } from '../gliner/model.js';
import { loadModelText, type ModelText } from '../gliner/model-text.js';
import { textEntities } from '../gliner/postprocess.js';
import { textRelations, type WindowRelation } from '../longtext/merge-relations.js';
import type { PreparedText, TaskPrefix } from '../gliner/preprocess.js';
import type { Logger } from '../logger.js';
import { DynamicBatcher, resolveBatcherLimits, type BatcherLimits, type DeprecatedBatcherLimits, type QueuedItem } from './batcher.js';
// A type only: local-slot loads ONNX Runtime, so it is imported where a slot on this thread is made (workers 0).
import type { LocalSlot } from './local-slot.js';
import type { FromWorker, ToWorker, WireRelations, WireSpans } from './protocol.js';
import { decodeRelations, decodeSpans } from './wire.js';
import { WorkerSlot } from './worker-slot.js';

export interface PoolOptions {
  modelDir: string;
  /** Load options for every worker; `sha256` should be set (computed once by the caller). */
  load: LoadOptions;
  /** Worker threads; 0 runs inference on the calling thread (one in-process slot). */
  workers: number;
  /** Batch limits; the deprecated names (`maxItems`, `maxTokens`, `maxWaitMs`) are accepted for one release. */
  batcher: BatcherLimits | DeprecatedBatcherLimits;
  logger: Logger;
  /** Called after every batch, for metrics. */
  onBatch?: (stats: BatchStats) => void;
  /** The tokenizer side of `modelDir` when the caller already loaded it (the start-up check); loaded here otherwise. */
  modelText?: ModelText;
}

export interface BatchStats {
  items: number;
  /** Rows × longest row. */
  paddedTokens: number;
  /** Sum of real sequence lengths. */
  tokens: number;
  encodeMs: number;
  runMs: number;
  decodeMs: number;
  /** From dispatch to result, as the main thread saw it. */
  latencyMs: number;
}

interface RequestState {
  request: ExtractionRequest;
  labels: string[];
  decode: DecodeOptions;
  prepared: PreparedText[];
  /** The task prompt's words before every window (ExtractionRequest.taskPrompt), if any. */
  prefix: TaskPrefix | undefined;
  perWindow: WordSpan[][][];
  /** With `request.relations`: each window's relations, by field then window. */
  perWindowRelations: WindowRelation[][][];
  /** `request.relations` de-duplicated (relation class i is names[i]), or undefined. */
  relations: { names: string[]; threshold: number } | undefined;
  pending: number;
  settled: boolean;
  resolve: (r: FieldEntities[]) => void;
  reject: (e: EnricherError) => void;
  cleanup: () => void;
}

/** A window waiting for (or in) a batch: which article, field and window; its ids stay in `prepared`. */
interface WindowRef {
  req: RequestState;
  field: number;
  window: number;
  isolated: boolean;
}

/** A worker thread or the in-process slot: the same requests, replies and bookkeeping. */
type Slot = WorkerSlot | LocalSlot;

/** A batch sent to a slot and not yet answered. */
interface Job {
  slot: Slot;
  items: QueuedItem<WindowRef>[];
  sentAt: number;
}

const RESPAWN_DELAY_MS = [100, 1000, 5000, 30_000];

/**
 * The inference pool, the project's one inference path. Each slot (a worker thread, or with
 * `workers` 0 one slot on the calling thread) owns an ONNX session. Articles are split into
 * words, sub-tokens and windows here on the calling thread (cheap), windows from all articles
 * meet in the dynamic batcher, batches go to idle slots (one round trip per batch, ids
 * transferred), and the decoded spans are merged back per article here (cheap).
 *
 * Failures: a batch that fails is retried window by window, so one bad window fails only
 * its article; a worker that dies is replaced and its work re-queued; work that kills a
 * worker on its own fails its article with INFERENCE_FAILED (non-retriable).
 */
export class InferencePool implements EntityExtractor {
  private readonly slots: Slot[] = [];
  private readonly ready = new Set<Slot>();
  private readonly jobs = new Map<number, Job>();
  private readonly batcher: DynamicBatcher<WindowRef>;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private nextJobId = 1;
  private isolation = 0;
  private closing: Promise<void> | undefined;

  private info: ModelInfo | undefined;
  /** The tokenizer side, on the calling thread: articles are prepared here. */
  private modelText: ModelText | undefined;

  private constructor(private readonly options: PoolOptions) {
    this.batcher = new DynamicBatcher(resolveBatcherLimits(options.batcher));
    this.log = options.logger.child({ component: 'inference-pool' });
  }

  /** Starts the workers and waits for all of them to load the model; any failure fails the start. */
  static async start(options: PoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(options);
    const { variant, tokenCacheSize } = options.load;
    pool.modelText = options.modelText ?? loadModelText(options.modelDir, { ...(variant ? { variant } : {}), ...(tokenCacheSize ? { tokenCacheSize } : {}) });
    try {
      await Promise.all(Array.from({ length: Math.max(1, options.workers) }, (_, i) => pool.spawn(i)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get model(): ModelInfo {
    if (this.info === undefined) throw new EnricherError('POOL_CLOSED', 'inference pool has no loaded worker');
    return this.info;
  }

  extract(request: ExtractionRequest, signal?: AbortSignal): Promise<FieldEntities[]> {
    if (this.closing) return Promise.reject(new EnricherError('POOL_CLOSED', 'inference pool is closed'));
    let decode: DecodeOptions;
    let relations: RequestState['relations'];
    try {
      decode = validateDecode(request.decode);
      relations = validateRelationRequest(request, this.model);
    } catch (err) {
      return Promise.reject(isEnricherError(err) ? err : new EnricherError('OPTIONS_INVALID', String(err)));
    }
    return new Promise<FieldEntities[]>((resolve, reject) => {
      const onAbort = (): void => this.fail(req, new EnricherError('ABORTED', 'extraction aborted'));
      const req: RequestState = {
        request,
        labels: [...new Set(request.labels)],
        decode,
        prepared: [],
        prefix: undefined,
        perWindow: [],
        perWindowRelations: [],
        relations,
        pending: 0,
        settled: false,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.prepare(req);
    });
  }

  private async spawn(index: number, attempt = 0): Promise<void> {
    const init = { modelDir: this.options.modelDir, load: this.options.load };
    const onMessage = (s: Slot, m: FromWorker): void => this.onMessage(s, m);
    // Only a slot on this thread loads ONNX Runtime here; with worker threads (the service) this
    // thread never does: the model loads in the workers.
    const slot: Slot =
      this.options.workers === 0
        ? new (await import('./local-slot.js')).LocalSlot(index, init, onMessage)
        : new WorkerSlot(index, init, onMessage, (s, reason) => this.onExit(s, reason));
    this.slots[index] = slot;
    try {
      const info = await slot.ready;
      this.info ??= info;
    } catch (err) {
      if (this.closing || attempt === 0) throw err;
      const delay = RESPAWN_DELAY_MS[Math.min(attempt, RESPAWN_DELAY_MS.length - 1)]!;
      this.log.error({ err, worker: index, retryInMs: delay }, 'worker failed to start');
      setTimeout(() => void this.spawn(index, attempt + 1).catch(() => undefined), delay).unref();
      return;
    }
    if (this.closing) return void slot.stop();
    this.ready.add(slot);
    this.pump();
  }

  /**
   * Splits the article's fields into words, sub-tokens and windows here, on the calling
   * thread (measured: at most a few ms for a long article, ~0.3% of its inference time), so
   * an article costs no round trip of its own: its windows go straight to the batcher.
   */
  private prepare(req: RequestState): void {
    const pre = this.modelText!.preprocessor;
    let texts: PreparedText[];
    let promptLength: number;
    try {
      const prompt = pre.prompt(req.labels, req.relations?.names ?? []);
      const { taskPrompt } = req.request;
      req.prefix = taskPrompt === undefined || taskPrompt === '' ? undefined : pre.taskPrefix(taskPrompt);
      const limits = pre.limits(prompt, req.request.window ?? {}, req.prefix);
      texts = req.request.fields.map((f) => pre.prepareText(f.text, limits));
      promptLength = prompt.ids.length + (req.prefix?.ids.length ?? 0);
    } catch (err) {
      return this.fail(req, toEnricherError(err, 'INFERENCE_FAILED'));
    }
    this.onPrepared(req, texts, promptLength);
    this.pump();
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready' || msg.type === 'init-failed') return;
    const job = this.jobs.get(msg.id);
    if (job === undefined) return;
    this.jobs.delete(msg.id);
    slot.inferring = false;
    if (msg.type === 'inferred') this.onInferred(job.items, msg.spans, msg.relations, msg, performance.now() - job.sentAt);
    else if (msg.type === 'failed') this.onBatchFailed(job.items, msg.error.code, msg.error.message);
    this.pump();
  }

  private onPrepared(req: RequestState, texts: PreparedText[], promptLength: number): void {
    if (req.settled) return;
    req.prepared = texts;
    req.perWindow = texts.map((t) => t.windows.map(() => []));
    req.perWindowRelations = texts.map((t) => t.windows.map(() => []));
    // Windows share a batch only with windows decoded the same way under the same prompts.
    const { threshold, flatNer, multiLabel } = req.decode;
    const key = JSON.stringify([req.labels, threshold, flatNer, multiLabel, req.request.taskPrompt ?? '', req.relations ?? null]);
    const now = performance.now();
    texts.forEach((t, field) =>
      t.windows.forEach((w, window) => {
        req.pending++;
        this.batcher.push({
          key,
          seqLen: t.tokenStart[w.end]! - t.tokenStart[w.start]! + promptLength + 2,
          enqueuedAt: now,
          payload: { req, field, window, isolated: false },
        });
      }),
    );
    if (req.pending === 0) this.finish(req);
  }

  private onInferred(
    items: QueuedItem<WindowRef>[],
    spans: WireSpans,
    relations: WireRelations | undefined,
    t: { encodeMs: number; runMs: number; decodeMs: number },
    latencyMs: number,
  ): void {
    items.forEach((item, i) => {
      const { req, field, window } = item.payload;
      if (req.settled) return;
      // Word indices count the task prompt's words first: spans starting in them are dropped
      // (after taking part in the window's greedy selection, as in the reference).
      const all = decodeSpans(spans, i, req.prefix?.counts.length ?? 0);
      req.perWindow[field]![window] = all.filter((s) => s.start >= 0);
      if (req.relations && relations) req.perWindowRelations[field]![window] = decodeRelations(relations, i, all);
      if (--req.pending === 0) this.finish(req);
    });
    let longest = 0;
    let tokens = 0;
    for (const it of items) {
      longest = Math.max(longest, it.seqLen);
      tokens += it.seqLen;
    }
    this.options.onBatch?.({ items: items.length, paddedTokens: longest * items.length, tokens, ...t, latencyMs });
  }

  /** A failed batch is retried one window per batch; a failing single window fails its article. */
  private onBatchFailed(items: QueuedItem<WindowRef>[], code: ErrorCode, message: string): void {
    for (const item of items) {
      const { req } = item.payload;
      if (req.settled) continue;
      if (item.payload.isolated || items.length === 1) {
        this.fail(req, new EnricherError(code === 'WORKER_CRASHED' ? 'INFERENCE_FAILED' : code, message));
      } else {
        this.batcher.push({ ...item, key: `${item.key}#isolated-${this.isolation++}`, payload: { ...item.payload, isolated: true } });
      }
    }
    this.log.warn({ code, message, items: items.length }, 'inference batch failed');
  }

  private finish(req: RequestState): void {
    const { request, decode } = req;
    const out: FieldEntities[] = req.prepared.map((p, f) => {
      const { field, text } = request.fields[f]!;
      const entities = textEntities(text, p, req.perWindow[f]!, req.labels, decode, request.mergeAdjacent === true);
      const result: FieldEntities = { field, entities, windows: p.windows.length, words: p.counts.length };
      if (req.relations) result.relations = textRelations(text, p, req.perWindowRelations[f]!, entities, req.labels, req.relations.names, field);
      return result;
    });
    req.settled = true;
    req.cleanup();
    req.resolve(out);
  }

  private fail(req: RequestState, err: EnricherError): void {
    if (req.settled) return;
    req.settled = true;
    req.cleanup();
    this.batcher.remove((it) => it.payload.req === req);
    req.reject(err);
  }

  private onExit(slot: Slot, reason: EnricherError): void {
    this.ready.delete(slot);
    const orphaned = [...this.jobs].filter(([, j]) => j.slot === slot);
    for (const [id, job] of orphaned) {
      this.jobs.delete(id);
      this.onBatchFailed(job.items, 'WORKER_CRASHED', reason.message);
    }
    if (this.closing) return;
    this.log.error({ err: reason, worker: slot.index }, 'inference worker died; replacing it');
    void this.spawn(slot.index, 1).catch(() => undefined);
  }

  /** Sends due batches to workers that are not running one. */
  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (const slot of this.ready) {
      if (slot.inferring) continue;
      const next = this.batcher.take(performance.now());
      if (next === undefined) return;
      if ('waitMs' in next) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(next.waitMs));
        return;
      }
      const live = next.batch.filter((it) => !it.payload.req.settled);
      if (live.length === 0) continue;
      const id = this.nextJobId++;
      this.jobs.set(id, { slot, items: live, sentAt: performance.now() });
      slot.inferring = true;
      slot.send(...inferMessage(id, live));
    }
  }

  /** Idempotent: fails what is still pending with POOL_CLOSED and stops the workers. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      const err = new EnricherError('POOL_CLOSED', 'inference pool closed');
      for (const job of this.jobs.values()) {
        for (const it of job.items) this.fail(it.payload.req, err);
      }
      for (const it of this.batcher.remove(() => true)) this.fail(it.payload.req, err);
      this.jobs.clear();
      await Promise.all(this.slots.map((s) => s.shutdown()));
    })();
    return this.closing;
  }
}

/**
 * The `infer` request of a batch. Each window's ids and word counts are copied out of its
 * article's buffers once, here, and those copies are transferred to the worker (not cloned);
 * a retried window is copied again from the article, which the main thread keeps.
 */
function inferMessage(id: number, items: readonly QueuedItem<WindowRef>[]): [ToWorker, ArrayBuffer[]] {
  const ids: Int32Array[] = [];
  const counts: Int32Array[] = [];
  for (const { payload } of items) {
    const t = payload.req.prepared[payload.field]!;
    const w = t.windows[payload.window]!;
    const windowIds = t.ids.subarray(t.tokenStart[w.start], t.tokenStart[w.end]);
    const windowCounts = t.counts.subarray(w.start, w.end);
    const prefix = payload.req.prefix;
    ids.push(prefix ? concat(prefix.ids, windowIds) : windowIds.slice());
    counts.push(prefix ? concat(prefix.counts, windowCounts) : windowCounts.slice());
  }
  const { labels, decode, relations } = items[0]!.payload.req;
  const transfer = [...ids, ...counts].map((a) => a.buffer as ArrayBuffer);
  return [{ type: 'infer', id, labels, decode, ids, counts, ...(relations ? { relations } : {}) }, transfer];
}

/** A task prompt's words followed by a window's, in one new array (it is transferred). */
function concat(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
