import { EnricherError } from '../errors.js';
import { wireError } from '../inference/serve.js';
import { extractFieldsGner, type GnerSettings, type GnerStats } from './extract-fields.js';
import type { FromGnerWorker, ToGnerWorker } from './gner-protocol.js';
import type { GnerModel } from './model.js';

/** Answers one GNER request wherever the model is (worker thread or calling thread); never throws. */
export async function serveGner(
  model: GnerModel,
  settings: GnerSettings,
  msg: Extract<ToGnerWorker, { type: 'extract' }>,
  signal?: AbortSignal,
): Promise<Extract<FromGnerWorker, { type: 'extracted' | 'failed' }>> {
  const t0 = performance.now();
  const stats: GnerStats = { prompts: 0, batches: 0, generatedTokens: 0, capped: 0 };
  try {
    const results = await extractFieldsGner(model, msg.request, settings, stats, signal);
    return { type: 'extracted', id: msg.id, results, stats, ms: performance.now() - t0 };
  } catch (err) {
    return { type: 'failed', id: msg.id, error: wireError(signal?.aborted ? new EnricherError('ABORTED', 'GNER article aborted') : err) };
  }
}
