import { toEnricherError, type ErrorCode } from '../errors.js';
import type { WordSpan } from '../core/spans.js';
import type { LoadedModel } from '../gliner/model.js';
import type { BatchTiming } from '../gliner/runner.js';
import type { WordRelation } from '../gliner/relex-decode.js';
import type { FromWorker, ToWorker, WireError, WireRelations, WireSpans } from './protocol.js';

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

function flatten(spans: WordSpan[][]): WireSpans {
  const total = spans.reduce((a, s) => a + s.length, 0);
  const out: WireSpans = {
    offsets: new Int32Array(spans.length + 1),
    words: new Int32Array(total * 2),
    labels: new Int32Array(total),
    scores: new Float32Array(total),
  };
  let k = 0;
  spans.forEach((list, i) => {
    out.offsets[i] = k;
    for (const s of list) {
      out.words[2 * k] = s.start;
      out.words[2 * k + 1] = s.end;
      out.labels[k] = s.label;
      out.scores[k] = s.score;
      k++;
    }
  });
  out.offsets[spans.length] = k;
  return out;
}

function flattenRelations(relations: WordRelation[][]): WireRelations {
  const total = relations.reduce((a, r) => a + r.length, 0);
  const out: WireRelations = {
    offsets: new Int32Array(relations.length + 1),
    ends: new Int32Array(total * 2),
    relations: new Int32Array(total),
    scores: new Float32Array(total),
  };
  let k = 0;
  relations.forEach((list, i) => {
    out.offsets[i] = k;
    for (const r of list) {
      out.ends[2 * k] = r.head;
      out.ends[2 * k + 1] = r.tail;
      out.relations[k] = r.relation;
      out.scores[k] = r.score;
      k++;
    }
  });
  out.offsets[relations.length] = k;
  return out;
}

/** Answers one request; a failure becomes a `failed` reply with its code (never a throw). */
export async function serve(model: LoadedModel, msg: WorkRequest): Promise<Reply> {
  try {
    const prompt = model.preprocessor.prompt(msg.labels, msg.relations?.names ?? []);
    const items = msg.ids.map((ids, i) => ({ ids, counts: msg.counts[i]! }));
    const timing: BatchTiming = { encodeMs: 0, runMs: 0, decodeMs: 0 };
    const result = await model.runner.run(items, prompt, msg.decode, timing, msg.relations?.threshold);
    const spans = flatten(result.spans);
    const transfer = [spans.offsets.buffer, spans.words.buffer, spans.labels.buffer, spans.scores.buffer];
    if (result.relations === undefined) {
      return { msg: { type: 'inferred', id: msg.id, spans, ...timing }, transfer: transfer as ArrayBuffer[] };
    }
    const relations = flattenRelations(result.relations);
    transfer.push(relations.offsets.buffer, relations.ends.buffer, relations.relations.buffer, relations.scores.buffer);
    return { msg: { type: 'inferred', id: msg.id, spans, relations, ...timing }, transfer: transfer as ArrayBuffer[] };
  } catch (err) {
    return { msg: { type: 'failed', id: msg.id, error: wireError(err) }, transfer: [] };
  }
}
