import { toEnricherError, type ErrorCode } from '../errors.js';
import type { LoadedModel } from '../gliner/model.js';
import type { BatchTiming } from '../gliner/runner.js';
import type { FromWorker, ToWorker, WireError } from './protocol.js';
import { buffersOf, encodeRelations, encodeSpans } from './wire.js';

/**
 * What an inference slot does with a request, wherever it runs: `infer` (run one batch of
 * windows, decode). The worker thread (`worker.ts`) and the
 * in-process slot (`local-slot.ts`) both answer through this one function, so running on the
 * calling thread or in a pool changes where the work runs, never what it computes.
 */

/** A reply and the buffers it hands over (transferred across threads, not copied). */
export interface Reply {
  msg: FromWorker;
  transfer: ArrayBuffer[];
}

export type WorkRequest = Exclude<ToWorker, { type: 'shutdown' }>;

export function wireError(err: unknown, fallback: ErrorCode = 'INFERENCE_FAILED'): WireError {
  const e = toEnricherError(err, fallback);
  return { code: e.code, message: e.message };
}

/** Answers one request; a failure becomes a `failed` reply with its code (never a throw). */
export async function serve(model: LoadedModel, msg: WorkRequest): Promise<Reply> {
  try {
    const prompt = model.preprocessor.prompt(msg.labels, msg.relations?.names ?? []);
    const items = msg.ids.map((ids, i) => ({ ids, counts: msg.counts[i]! }));
    const timing: BatchTiming = { encodeMs: 0, runMs: 0, decodeMs: 0 };
    const result = await model.runner.run(items, prompt, msg.decode, timing, msg.relations?.threshold);
    const spans = encodeSpans(result.spans);
    if (result.relations === undefined) return { msg: { type: 'inferred', id: msg.id, spans, ...timing }, transfer: buffersOf(spans) };
    const relations = encodeRelations(result.relations);
    return { msg: { type: 'inferred', id: msg.id, spans, relations, ...timing }, transfer: [...buffersOf(spans), ...buffersOf(relations)] };
  } catch (err) {
    return { msg: { type: 'failed', id: msg.id, error: wireError(err) }, transfer: [] };
  }
}
