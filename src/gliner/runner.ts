import { EnricherError } from '../errors.js';
import { checkSpanShape, detectTokenLayout, spanCandidates, tokenCandidates, type TokenLayout } from './decode.js';
import { encodeBatch, type EncodedText, type SpecialIds } from './encode.js';
import { greedySelect, type WordSpan } from '../core/spans.js';
import type { GlinerSettings } from './model-config.js';
import type { Prompt } from './prompt.js';
import { decodeRelations, packedCandidates, RELATION_OUTPUTS, type WordRelation } from './relex-decode.js';
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

/** Decoded spans of each text of a batch and, on a relation model asked for relations, their relations. */
export interface BatchResult {
  spans: WordSpan[][];
  /** Per text; indices into that text's `spans`. Absent unless the model has a relation head. */
  relations?: WordRelation[][];
}

/**
 * Model-side work of the engine: feeds → ONNX Runtime → per-text spans (and relations).
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
    const missing = RELATION_OUTPUTS.filter((name) => !this.session.outputNames.includes(name));
    if (this.settings.relex && missing.length > 0) {
      throw new EnricherError(
        'MODEL_UNSUPPORTED',
        `gliner_config.json describes a relation model (relations_layer=${JSON.stringify(this.settings.relex.relationsLayer)}) ` +
          `but the graph has no ${missing.join(', ')} output (outputs: ${this.session.outputNames.join(', ')})`,
      );
    }
    const { data, dims, relations } = await this.session.run(feeds);
    const W = sample.counts.length;
    const C = prompt.labels.length;
    if (this.settings.spanMode === 'span') {
      checkSpanShape(dims, 1, W, this.settings.maxWidth, C);
      if (this.settings.relex) {
        if (relations === undefined || relations.classes !== prompt.relations.length) {
          throw new EnricherError('OUTPUT_SHAPE', `rel_logits has ${relations?.classes} classes for ${prompt.relations.length} relations asked`);
        }
        // Throws when rel_idx points past the candidates rebuilt at the configured graph threshold.
        decodeRelations(relations, 0, packedCandidates(data, dims, 0, W, this.settings.relex.graphEntityThreshold, this.settings.relex.graphMaxCandidates), [], 1, prompt.relations.length);
      }
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

  /**
   * Runs one batch and decodes each text with the reference's rules (greedy per text); a relation
   * model also decodes the relations among each text's entities above `relationThreshold`
   * (default: `decode.threshold`, as the reference's).
   */
  async run(items: readonly EncodedText[], prompt: Prompt, decode: DecodeOptions, timing?: BatchTiming, relationThreshold?: number): Promise<BatchResult> {
    const t0 = performance.now();
    const feeds = encodeBatch(items, prompt.ids, this.special, this.spanWidth());
    const t1 = performance.now();
    const { data, dims, relations: rel } = await this.session.run(feeds);
    const t2 = performance.now();
    const B = items.length;
    const W = feeds.maxWords;
    const C = prompt.labels.length;
    const out: WordSpan[][] = [];
    const relations: WordRelation[][] | undefined = this.settings.relex && rel ? [] : undefined;
    if (this.settings.spanMode === 'span') {
      checkSpanShape(dims, B, W, this.settings.maxWidth, C);
      for (let b = 0; b < B; b++) {
        const n = items[b]!.counts.length;
        const cands = spanCandidates(data, dims, b, n, decode.threshold);
        const spans = greedySelect(cands, decode.flatNer, decode.multiLabel);
        out.push(spans);
        if (relations && rel) {
          const packed = packedCandidates(data, dims, b, n, this.settings.relex!.graphEntityThreshold, this.settings.relex!.graphMaxCandidates);
          relations.push(decodeRelations(rel, b, packed, spans, relationThreshold ?? decode.threshold, prompt.relations.length));
        }
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
    return relations ? { spans: out, relations } : { spans: out };
  }
}
