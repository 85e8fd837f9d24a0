import { EnricherError } from '../errors.js';
import type { WordSpan } from '../core/spans.js';
import { sigmoid32 } from './decode.js';

/**
 * Relations of a native GLiNER relation model (gliner `UniEncoderSpanRelexGLiNER`) from its
 * graph outputs, as the reference's `SpanRelexDecoder` decodes them when it knows which span each
 * of the graph's entities is.
 *
 * The graph scores pairs of *candidates*: the spans whose best label probability is above the
 * graph's entity threshold, packed in (start, width) order; `rel_idx` indexes that packed list.
 * The reference's ONNX path has no `entity_spans` output, so its decoder reads `rel_idx` as
 * indices into the greedy-decoded entity list instead, and a relation attaches to the wrong
 * entities as soon as flat NER drops a candidate (the common case). Here the packed list is
 * rebuilt from the `logits` output, and each pair maps to decoded entities by span boundaries,
 * which is what the reference's PyTorch path does with `entity_spans`.
 */

/** The pair outputs of a relation graph: P pairs per batch item, C relation classes. */
export interface RelationOutputs {
  /** [B, P, 2] head and tail indices into the graph's packed candidate list (-1 on padding). */
  idx: BigInt64Array;
  /** [B, P, C] float32. */
  logits: Float32Array;
  /** [B, P]: 1 for a real pair. */
  mask: Uint8Array;
  pairs: number;
  classes: number;
}

/** Output names of a relation graph (gliner's `UniEncoderSpanRelexGLiNER._get_onnx_input_spec`). */
export const RELATION_OUTPUTS = ['rel_idx', 'rel_logits', 'rel_mask'] as const;

/** `spans[head] --relation--> spans[tail]` of one text: indices into its decoded spans. */
export interface WordRelation {
  head: number;
  tail: number;
  /** 0-based relation class (index into the prompt's relation names). */
  relation: number;
  score: number;
}

/**
 * The graph's packed candidate list for row `b` (n words): [start, end] word spans whose best
 * label probability exceeds `graphThreshold` (a float32 comparison, as in the graph), in (start,
 * width) order. With more than `maxCandidates` of them, only those whose best label logit is at
 * least the `maxCandidates`-th highest stay (ties kept, order unchanged): the graph's memory bound
 * (`onnx_max_candidates`, models/gliner_tools/relex_export.py), on the same float32 logits.
 */
export function packedCandidates(
  logits: Float32Array,
  dims: readonly number[],
  b: number,
  n: number,
  graphThreshold: number,
  maxCandidates = Infinity,
): Array<[number, number]> {
  const [, W, K, C] = dims as [number, number, number, number];
  const t32 = Math.fround(graphThreshold);
  const out: Array<[number, number]> = [];
  const bests: number[] = [];
  const rowBase = b * W * K * C;
  for (let s = 0; s < n; s++) {
    const kMax = Math.min(K, n - s);
    for (let k = 0; k < kMax; k++) {
      const base = rowBase + (s * K + k) * C;
      let best = -Infinity;
      for (let c = 0; c < C; c++) best = Math.max(best, logits[base + c]!);
      if (C > 0 && sigmoid32(best) > t32) {
        out.push([s, s + k]);
        bests.push(best);
      }
    }
  }
  if (out.length <= maxCandidates) return out;
  const last = [...bests].sort((x, y) => y - x)[maxCandidates - 1]!;
  return out.filter((_, i) => bests[i]! >= last);
}

/**
 * Relations of row `b`: every real pair whose both candidates are decoded entities, with each
 * relation class whose probability is above `threshold` (the reference's `prob <= threshold`
 * skip, in double precision), in pair order then class order. `relationCount` is the number of
 * relation names asked; classes past it (padding) are skipped.
 */
export function decodeRelations(
  rel: RelationOutputs,
  b: number,
  candidates: ReadonlyArray<readonly [number, number]>,
  spans: readonly WordSpan[],
  threshold: number,
  relationCount: number,
): WordRelation[] {
  const bySpan = new Map<number, number>();
  spans.forEach((s, i) => {
    const key = s.start * 65_536 + s.end;
    if (!bySpan.has(key)) bySpan.set(key, i);
  });
  const decoded = (e: number): number | undefined => {
    const c = candidates[e];
    if (c === undefined) {
      throw new EnricherError(
        'OUTPUT_SHAPE',
        `rel_idx names candidate ${e} but ${candidates.length} spans are above the graph's entity threshold: ` +
          "onnx_entity_threshold in gliner_config.json does not match the graph's",
      );
    }
    return bySpan.get(c[0] * 65_536 + c[1]);
  };
  const { pairs: P, classes: C } = rel;
  const out: WordRelation[] = [];
  for (let j = 0; j < P; j++) {
    const pair = b * P + j;
    if (!rel.mask[pair]) continue;
    const h = Number(rel.idx[2 * pair]);
    const t = Number(rel.idx[2 * pair + 1]);
    if (h < 0 || t < 0) continue;
    const head = decoded(h);
    const tail = decoded(t);
    if (head === undefined || tail === undefined) continue;
    for (let c = 0; c < Math.min(C, relationCount); c++) {
      const p = sigmoid32(rel.logits[pair * C + c]!);
      if (p <= threshold) continue;
      out.push({ head, tail, relation: c, score: p });
    }
  }
  return out;
}
