import { EnricherError } from '../errors.js';
import type { WordSpan } from '../core/spans.js';

/**
 * Candidate extraction from logits, identical to the reference decoders
 * (gliner `SpanDecoder` and `TokenDecoder`, min-score rule of gliner ≥ 0.2.17).
 * Scores are float32 sigmoids, as torch computes them.
 */

/**
 * Sigmoid as torch computes it on float32 tensors: every operation rounded to float32,
 * `1 / (1 + exp(-x))`. Saturated logits must tie exactly as they do in the reference
 * (16.03 and 16.34 both give 0.99999988), or greedy selection breaks ties differently.
 */
export function sigmoid32(x: number): number {
  const f = Math.fround;
  return f(1 / f(1 + f(Math.exp(-x))));
}


/** A logit below this cannot have a sigmoid above `threshold`: skips exp() for most cells. */
function logitFloor(threshold: number): number {
  if (threshold <= 0) return -Infinity;
  if (threshold >= 1) return Infinity;
  return Math.log(threshold / (1 - threshold)) - 1e-3;
}

/**
 * Span model: logits [B, W, K, C]. Candidates of row `b` (n words) in the reference's
 * row-major (start, width, class) order, kept when sigmoid > threshold (strict) and the
 * span ends inside the text.
 */
export function spanCandidates(
  logits: Float32Array,
  dims: readonly number[],
  b: number,
  n: number,
  threshold: number,
): WordSpan[] {
  const [, W, K, C] = dims as [number, number, number, number];
  const floor = logitFloor(threshold);
  // `probs > threshold` on a float32 tensor compares in float32 (0.1 becomes 0.100000001).
  const t32 = Math.fround(threshold);
  const out: WordSpan[] = [];
  const rowBase = b * W * K * C;
  for (let s = 0; s < n; s++) {
    const kMax = Math.min(K, n - s);
    for (let k = 0; k < kMax; k++) {
      const base = rowBase + (s * K + k) * C;
      for (let c = 0; c < C; c++) {
        const x = logits[base + c]!;
        if (x <= floor) continue;
        const p = sigmoid32(x);
        if (p > t32) out.push({ start: s, end: s + k, label: c, score: p });
      }
    }
  }
  return out;
}

/** Token-model output layouts: gliner ≥ 0.2.22 exports [B, W, C, 3]; older ones [3, B, W, C]. */
export type TokenLayout = 'BWC3' | '3BWC';

/**
 * Picks the layout from the output shape, knowing B, W and C. Returns undefined when the
 * shape fits both (B = W = C = 3) or neither.
 */
export function detectTokenLayout(dims: readonly number[], B: number, W: number, C: number): TokenLayout | undefined {
  const isNew = dims.length === 4 && dims[0] === B && dims[1] === W && dims[2] === C && dims[3] === 3;
  const isOld = dims.length === 4 && dims[0] === 3 && dims[1] === B && dims[2] === W && dims[3] === C;
  if (isNew && !isOld) return 'BWC3';
  if (isOld && !isNew) return '3BWC';
  return undefined;
}

/**
 * Token model: start/end/inside logits. A span (i..j, class c) is a candidate when
 * start[i,c] > thr, end[j,c] > thr, j ≥ i, and no inside[i..j, c] is < thr; its score is
 * min(inside[i..j], start[i], end[j]). Order: starts in (position, class) order, then ends
 * by position, as the reference's nested loops produce them. Positions ≥ n (padding of
 * shorter rows) are never used: the reference does use them and then crashes mapping
 * such spans to characters. Start/end are compared in float32 (torch.where), inside
 * scores in double (a Python loop), as in the reference.
 */
export function tokenCandidates(
  logits: Float32Array,
  layout: TokenLayout,
  B: number,
  W: number,
  C: number,
  b: number,
  n: number,
  threshold: number,
): WordSpan[] {
  const at =
    layout === 'BWC3'
      ? (t: number, w: number, c: number) => logits[((b * W + w) * C + c) * 3 + t]!
      : (t: number, w: number, c: number) => logits[((t * B + b) * W + w) * C + c]!;
  const START = 0;
  const END = 1;
  const INSIDE = 2;
  const t32 = Math.fround(threshold);
  const out: WordSpan[] = [];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const startScore = sigmoid32(at(START, i, c));
      if (!(startScore > t32)) continue;
      let minInside = Infinity;
      for (let j = i; j < n; j++) {
        const inside = sigmoid32(at(INSIDE, j, c));
        if (inside < threshold) break;
        if (inside < minInside) minInside = inside;
        const endScore = sigmoid32(at(END, j, c));
        if (endScore > t32) {
          out.push({ start: i, end: j, label: c, score: Math.min(minInside, startScore, endScore) });
        }
      }
    }
  }
  return out;
}

/** Converts an fp16 output (ORT returns raw uint16 bits) to float32. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 31) out[i] = frac === 0 ? sign * Infinity : NaN;
    else out[i] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

/** Checks a span model's logits shape against what the batch implies. */
export function checkSpanShape(dims: readonly number[], B: number, W: number, K: number, C: number): void {
  if (dims.length !== 4 || dims[0] !== B || dims[1] !== W || dims[2] !== K || dims[3] !== C) {
    throw new EnricherError('OUTPUT_SHAPE', `span logits have shape [${dims.join(', ')}], expected [${B}, ${W}, ${K}, ${C}]`);
  }
}
