import { EnricherError } from '../errors.js';
import { wireError } from '../inference/serve.js';
import { extractFieldsGner, type GnerSettings, type GnerStats } from './extract-fields.js';
import type { FromGnerWorker, ToGnerWorker } from './gner-protocol.js';
import type { GnerModel } from './model.js';

type Reply = Extract<FromGnerWorker, { type: 'extracted' | 'failed' }>;

/** Answers one GNER request wherever the model is (worker thread or calling thread); never throws. */
export async function serveGner(model: GnerModel, settings: GnerSettings, msg: Extract<ToGnerWorker, { type: 'extract' }>, signal?: AbortSignal): Promise<Reply> {
  const t0 = performance.now();
  const stats: GnerStats = { prompts: 0, batches: 0, generatedTokens: 0, capped: 0 };
  try {
    const results = await extractFieldsGner(model, msg.request, settings, stats, signal);
    return { type: 'extracted', id: msg.id, results, stats, ms: performance.now() - t0 };
  } catch (err) {
    return { type: 'failed', id: msg.id, error: wireError(signal?.aborted ? new EnricherError('ABORTED', 'GNER article aborted') : err) };
  }
}

/**
 * A slot's request loop, the same on a worker thread and on the calling thread: articles are
 * served one after another; a `cancel` acts at once (the article stops before its next generate
 * call). A reply the caller cannot take (not cloneable, a throwing listener) becomes a `failed`
 * reply, so its article still settles.
 */
export class GnerRequests {
  private readonly cancels = new Map<number, AbortController>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly model: Promise<GnerModel>,
    private readonly settings: GnerSettings,
    private readonly reply: (msg: Reply) => void,
  ) {}

  handle(msg: Exclude<ToGnerWorker, { type: 'shutdown' }>): void {
    if (msg.type === 'cancel') return void this.cancels.get(msg.id)?.abort();
    const cancel = new AbortController();
    this.cancels.set(msg.id, cancel);
    this.chain = this.chain.then(async () => {
      const answer = await this.model.then(
        (m) => serveGner(m, this.settings, msg, cancel.signal),
        (err: unknown): Reply => ({ type: 'failed', id: msg.id, error: wireError(err, 'WORKER_INIT_FAILED') }),
      );
      this.cancels.delete(msg.id);
      try {
        this.reply(answer);
      } catch (err) {
        try {
          this.reply({ type: 'failed', id: msg.id, error: wireError(err) });
        } catch {
          // Nobody can take a reply any more (the slot is gone).
        }
      }
    });
  }

  /** Aborts every queued and running article (shutdown). */
  abortAll(): void {
    for (const c of this.cancels.values()) c.abort();
  }

  /** Resolves when the articles handed in so far are answered. */
  drained(): Promise<void> {
    return this.chain;
  }
}
