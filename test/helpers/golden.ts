import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { codePointToUtf16 } from '../../src/gliner/words.js';

/** A parity case (test/fixtures/parity/cases.jsonl). */
export interface ParityCase {
  id: string;
  texts: string[];
  labels: string[];
  threshold: number;
  flat_ner: boolean;
  multi_label: boolean;
  batch_size: number;
  long_prompt?: boolean;
}

export interface GoldenEntity {
  start: number;
  end: number;
  text: string;
  label: string;
  score: number;
}

export interface GoldenBatch {
  text_indices: number[];
  feeds: { input_ids: number[][]; attention_mask: number[][]; words_mask: number[][]; text_lengths: number[][] };
  span_idx_sha256: string | null;
  span_mask_sha256: string | null;
  logits_shape: number[];
  logits_b64: string | null;
}

/** Reference output for one case (written by models/golden.py). */
export interface GoldenCase {
  id: string;
  model: string;
  variant: string;
  /** The model's max_len, and each text's word count (reference splitter). */
  max_len: number;
  word_counts: number[];
  /** Some text exceeds max_len: the reference silently keeps its first max_len words. */
  truncated: boolean;
  entities?: GoldenEntity[][];
  /** Set when the reference crashed on the case as batched (see `fallback`). */
  reference_error?: string;
  /** The same case run one text per batch, when the batched run crashed. */
  fallback?: { batch_size: number; entities: GoldenEntity[][] };
  batches: GoldenBatch[];
}

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

export function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Reference entities with Python code-point offsets → UTF-16 offsets of `text`. */
export function toUtf16(text: string, ents: readonly GoldenEntity[]): GoldenEntity[] {
  const map = codePointToUtf16(text);
  return ents.map((e) => ({ ...e, start: map(e.start), end: map(e.end) }));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function decodeFloat32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Row-major 2-D view of a flat int64 feed as numbers. */
export function rows(data: BigInt64Array, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length; i += width) out.push(Array.from(data.subarray(i, i + width), Number));
  return out;
}
