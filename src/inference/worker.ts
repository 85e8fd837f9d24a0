import { parentPort, workerData } from 'node:worker_threads';
import { EnricherError, toEnricherError, type ErrorCode } from '../errors.js';
import { loadModel, type LoadedModel } from '../gliner/model.js';
import type { WordSpan } from '../core/spans.js';
import type { BatchTiming } from '../gliner/runner.js';
import type { FromWorker, ToWorker, WireError, WirePrepared, WireSpans, WorkerInit } from './protocol.js';

/**
 * Inference worker thread: owns one tokenizer and one ONNX Runtime session. It answers
 * `prepare` (split, tokenize, plan windows) and `infer` (run a batch, decode) requests
 * one at a time; ORT's run blocks this thread, never the main one.
 */

const port = parentPort;
if (port === null) throw new Error('worker.ts must run in a worker thread');

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function wire(err: unknown, fallback: ErrorCode = 'INFERENCE_FAILED'): WireError {
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

async function handle(model: LoadedModel, msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'prepare': {
      const pre = model.preprocessor;
      const prompt = pre.prompt(msg.labels);
      const limits = pre.limits(prompt, msg.window);
      const texts: WirePrepared[] = msg.texts.map((t) => pre.prepareText(t, limits));
      const transfer = texts.flatMap((t) => [t.starts.buffer, t.ends.buffer, t.ids.buffer, t.counts.buffer, t.tokenStart.buffer]);
      post({ type: 'prepared', id: msg.id, texts, promptLength: prompt.ids.length }, transfer as ArrayBuffer[]);
      return;
    }
    case 'infer': {
      const prompt = model.preprocessor.prompt(msg.labels);
      const items = msg.ids.map((ids, i) => ({ ids, counts: msg.counts[i]! }));
      const timing: BatchTiming = { encodeMs: 0, runMs: 0, decodeMs: 0 };
      const spans = flatten(await model.runner.run(items, prompt, msg.decode, timing));
      const transfer = [spans.offsets.buffer, spans.words.buffer, spans.labels.buffer, spans.scores.buffer];
      post({ type: 'inferred', id: msg.id, spans, ...timing }, transfer as ArrayBuffer[]);
      return;
    }
    case 'shutdown':
      await model.release();
      port!.close();
      return;
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  let model: LoadedModel;
  try {
    model = await loadModel(init.modelDir, init.load);
  } catch (err) {
    post({ type: 'init-failed', error: wire(err, 'WORKER_INIT_FAILED') });
    return;
  }
  // Requests are handled strictly one after another: ORT's run is synchronous anyway,
  // and ordering keeps a `shutdown` behind the work queued before it.
  let chain: Promise<void> = Promise.resolve();
  port!.on('message', (msg: ToWorker) => {
    chain = chain.then(() =>
      handle(model, msg).catch((err: unknown) => {
        if (msg.type === 'shutdown') return;
        post({ type: 'failed', id: msg.id, error: wire(err) });
      }),
    );
  });
  post({ type: 'ready', info: model.info });
}

main().catch((err: unknown) => {
  // Unreachable by design (main catches its own failures); make it loud if it happens.
  throw new EnricherError('WORKER_CRASHED', `worker failed: ${(err as Error).message}`, { cause: err });
});
