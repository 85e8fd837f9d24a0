import type { EnricherError } from '../errors.js';
import type { ModelInfo } from '../core/types.js';

/** A record for the output or dead-letter topic, with its size estimated once. */
export interface OutRecord {
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Upper estimate of the record's bytes inside a record batch. */
  readonly bytes: number;
}

/** Where a consumed message came from (DLQ headers, logs). */
export interface SourceRef {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Record batch header (61 bytes in format v2) plus slack. */
export const BATCH_OVERHEAD_BYTES = 128;
/** Per-record framing in format v2 (length, attributes, deltas, varints), rounded up. */
const RECORD_OVERHEAD_BYTES = 32;
/** Longest `x-error-message` header, in UTF-8 bytes. */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

function byteLength(v: Buffer | string | null): number {
  if (v === null) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/** Estimated size of a record inside a batch: framing, key, value and headers. */
export function recordBytes(key: Buffer | string | null, value: Buffer | string | null, headers: Readonly<Record<string, string>>): number {
  let n = RECORD_OVERHEAD_BYTES + byteLength(key) + byteLength(value);
  for (const [k, v] of Object.entries(headers)) n += 10 + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
  return n;
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const buf = Buffer.from(text, 'utf8').subarray(0, Math.max(0, maxBytes - 3));
  // Drop a trailing partial character: continuation bytes (10xxxxxx) and their lead byte.
  let end = buf.length;
  let i = end - 1;
  while (i >= 0 && (buf[i]! & 0xc0) === 0x80) i -= 1;
  if (i >= 0) {
    const lead = buf[i]!;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - i < need) end = i;
  }
  return `${buf.subarray(0, end).toString('utf8')}...`;
}

/** Output topic record: key = article id, value = enriched JSON, model and version headers. */
export function outputRecord(id: string, json: string, model: ModelInfo, enricherVersion: string): OutRecord {
  const headers = { 'x-model': model.name, 'x-model-sha256': model.sha256, 'x-enricher-version': enricherVersion };
  return { key: id, value: json, headers, bytes: recordBytes(id, json, headers) };
}

export interface DeadLetterInput {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly source: SourceRef;
  readonly error: EnricherError;
  readonly failedAt: Date;
  /** Article id when the message got far enough to have one. */
  readonly articleId?: string;
  /** Largest record allowed (kafka.maxMessageBytes). */
  readonly maxBytes: number;
}

/**
 * Dead-letter record (DESIGN §2): the original key and value bytes untouched, and headers
 * saying why and where from. A value too large for the DLQ topic is cut to fit and marked
 * with `x-value-truncated: <original bytes>`; the original stays in the source topic at the
 * offset the headers name.
 */
export function deadLetterRecord(input: DeadLetterInput): OutRecord {
  const { key, source, error } = input;
  const headers: Record<string, string> = {
    'x-error-code': error.code,
    'x-error-message': truncateUtf8(error.message, MAX_ERROR_MESSAGE_BYTES),
    'x-source-topic': source.topic,
    'x-source-partition': String(source.partition),
    'x-source-offset': source.offset,
    'x-failed-at': input.failedAt.toISOString(),
  };
  if (input.articleId !== undefined) headers['x-article-id'] = truncateUtf8(input.articleId, 512);
  let value = input.value;
  const budget = input.maxBytes - BATCH_OVERHEAD_BYTES;
  const size = recordBytes(key, value, headers);
  if (value !== null && size > budget) {
    headers['x-value-truncated'] = String(value.length);
    const room = Math.max(0, budget - recordBytes(key, null, headers));
    value = value.subarray(0, room);
  }
  return { key, value, headers, bytes: recordBytes(key, value, headers) };
}

/** Whether a record fits a produce request of at most `maxBytes`. */
export function fits(record: OutRecord, maxBytes: number): boolean {
  return record.bytes + BATCH_OVERHEAD_BYTES <= maxBytes;
}

/**
 * Splits records into consecutive chunks whose estimated size stays within `maxBytes`
 * (kafkajs puts all records of one send for a partition into one record batch, which the
 * broker checks against `max.message.bytes`). Order is kept; a record too large on its own
 * gets a chunk of its own.
 */
export function chunkRecords<T extends { readonly bytes: number }>(records: readonly T[], maxBytes: number, maxCount = Infinity): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = BATCH_OVERHEAD_BYTES;
  for (const r of records) {
    if (current.length > 0 && (size + r.bytes > maxBytes || current.length >= maxCount)) {
      chunks.push(current);
      current = [];
      size = BATCH_OVERHEAD_BYTES;
    }
    current.push(r);
    size += r.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
