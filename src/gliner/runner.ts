import { EnricherError } from '../errors.js';
import { checkSpanShape, detectTokenLayout, spanCandidates, tokenCandidates, type TokenLayout } from './decode.js';
import { encodeBatch, type EncodedText, type SpecialIds } from './encode.js';
import { greedySelect, type WordSpan } from '../core/spans.js';
import type { GlinerSettings } from './model-config.js';
import type { Prompt } from './prompt.js';
import type { OnnxSession } from './session.js';
import type { DecodeOptions } from '../core/types.js';

/** Time spent per stage of one batch, for metrics and benchmarks (milliseconds). */
export interface BatchTiming {
  encodeMs: number;
  runMs: number;
  decodeMs: number;
}

/** Adds one batch's stage times to a running total (the pool's `onBatch` stats carry them). */
export function addTiming(total: BatchTiming, batch: Readonly<BatchTiming>): void {
  total.encodeMs += batch.encodeMs;
  total.runMs += batch.runMs;
  total.decodeMs += batch.decodeMs;
}

/**
 * Model-side work of the engine: feeds → ONNX Runtime → per-text spans.
 * One runner per session; batches share one prompt (label set).
 */
export class BatchRunner {
  private tokenLayout: TokenLayout | undefined;

  constructor(
    readonly session: OnnxSession,
    readonly settings: GlinerSettings,
    readonly special: SpecialIds,
  ) {}

  /**
   * Runs a tiny batch once to learn the token-model output layout and to check that the
   * graph agrees with gliner_config.json (inputs, max_width), before any real traffic.
   */
  async probe(prompt: Prompt, sample: EncodedText): Promise<void> {
    const feeds = encodeBatch([sample], prompt.ids, this.special, this.spanWidth());
    const { dims } = await this.session.run(feeds);
    const W = sample.counts.length;
    const C = prompt.labels.length;
    if (this.settings.spanMode === 'span') {
      checkSpanShape(dims, 1, W, this.settings.maxWidth, C);
      return;
    }
    const layout = detectTokenLayout(dims, 1, W, C);
    if (layout === undefined) {
      throw new EnricherError('OUTPUT_SHAPE', `token logits have shape [${dims.join(', ')}]; expected [1, ${W}, ${C}, 3] or [3, 1, ${W}, ${C}]`);
    }
    this.tokenLayout = layout;
  }

  private spanWidth(): number | undefined {
    return this.settings.spanMode === 'span' ? this.settings.maxWidth : undefined;
  }

  /** Runs one batch and decodes each text with the reference's rules (greedy per text). */
  async run(items: readonly EncodedText[], prompt: Prompt, decode: DecodeOptions, timing?: BatchTiming): Promise<WordSpan[][]> {
    const t0 = performance.now();
    const feeds = encodeBatch(items, prompt.ids, this.special, this.spanWidth());
    const t1 = performance.now();
    const { data, dims } = await this.session.run(feeds);
    const t2 = performance.now();
    const B = items.length;
    const W = feeds.maxWords;
    const C = prompt.labels.length;
    const out: WordSpan[][] = [];
    if (this.settings.spanMode === 'span') {
      checkSpanShape(dims, B, W, this.settings.maxWidth, C);
      for (let b = 0; b < B; b++) {
        const cands = spanCandidates(data, dims, b, items[b]!.counts.length, decode.threshold);
        out.push(greedySelect(cands, decode.flatNer, decode.multiLabel));
      }
    } else {
      const layout = this.tokenLayout ?? detectTokenLayout(dims, B, W, C);
      const expected = layout === 'BWC3' ? [B, W, C, 3] : [3, B, W, C];
      if (layout === undefined || dims.length !== 4 || expected.some((d, i) => dims[i] !== d)) {
        throw new EnricherError('OUTPUT_SHAPE', `token logits have shape [${dims.join(', ')}] for B=${B} W=${W} C=${C}`);
      }
      for (let b = 0; b < B; b++) {
        const cands = tokenCandidates(data, layout, B, W, C, b, items[b]!.counts.length, decode.threshold);
        out.push(greedySelect(cands, decode.flatNer, decode.multiLabel));
      }
    }
    if (timing) {
      timing.encodeMs += t1 - t0;
      timing.runMs += t2 - t1;
      timing.decodeMs += performance.now() - t2;
    }
    return out;
  }
}
