/**
 * Pure rules of the Elasticsearch sink: what each bulk item outcome means, and the
 * external version a document is written with.
 */

/** The part of a bulk response item the sink reads. */
export interface BulkItemResult {
  readonly status: number;
  readonly error?: { readonly type?: string; readonly reason?: string | null } | undefined;
}

export type ItemOutcome =
  /** Indexed (created or updated). */
  | { readonly kind: 'indexed' }
  /** Version conflict with external versioning: a newer version is already stored. Done. */
  | { readonly kind: 'superseded' }
  /** Transient: overload (429), server errors, unavailable shards; retry with backoff. */
  | { readonly kind: 'retry'; readonly status: number; readonly reason: string }
  /** The document itself is refused (mapping, parsing, size): dead-letter it. */
  | { readonly kind: 'reject'; readonly status: number; readonly reason: string };

/**
 * Errors that are about the cluster or the deployment rather than the document: retried
 * (never dead-lettered) so a missing index or permission does not empty the topic into the
 * DLQ; the service stays paused and not ready until an operator fixes it.
 */
const SYSTEMIC_TYPES = new Set([
  'index_not_found_exception',
  'cluster_block_exception',
  'security_exception',
  'unavailable_shards_exception',
  'es_rejected_execution_exception',
  'circuit_breaking_exception',
]);

function describe(item: BulkItemResult): string {
  const type = item.error?.type ?? 'unknown';
  const reason = item.error?.reason ?? '';
  return reason === '' ? `${item.status} ${type}` : `${item.status} ${type}: ${reason}`;
}

/** Classifies one bulk item (DESIGN §2: 429/5xx retry, 409 counts as done, 4xx document errors → DLQ). */
export function classifyBulkItem(item: BulkItemResult): ItemOutcome {
  const { status } = item;
  if (status >= 200 && status < 300) return { kind: 'indexed' };
  if (status === 409 && (item.error?.type === undefined || item.error.type === 'version_conflict_engine_exception')) {
    return { kind: 'superseded' };
  }
  const type = item.error?.type ?? '';
  if (status === 429 || status >= 500 || status === 401 || status === 403 || status === 404 || status === 408 || SYSTEMIC_TYPES.has(type)) {
    return { kind: 'retry', status, reason: describe(item) };
  }
  return { kind: 'reject', status, reason: describe(item) };
}

/** Offsets up to 2^44 per partition; versions must stay below 2^53 to survive JSON. */
export const VERSION_EPOCH_SHIFT = 2 ** 44;

/**
 * External version of a document from the message's partition offset: a later message for
 * the same id (same partition, since producers key by id) gets a higher version and wins,
 * whichever finishes first; a replay of the same message gets the same version (409, done).
 */
export function documentVersion(offset: number, epoch: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= VERSION_EPOCH_SHIFT - 1) throw new RangeError(`offset ${offset} out of range for versioning`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 511) throw new RangeError(`version epoch ${epoch} out of range 0–511`);
  return epoch * VERSION_EPOCH_SHIFT + offset + 1;
}
