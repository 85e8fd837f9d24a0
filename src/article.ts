import { z } from 'zod';
import { EnricherError } from './errors.js';
import type { FieldText } from './core/extraction.js';
import { relationNameProblem } from './core/relations.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth.js';

/** Limits applied to every input message. */
export interface ArticleLimits {
  /** Largest body in UTF-8 bytes. @defaultValue 1 MiB */
  maxBodyBytes: number;
  /** Most labels a message may ask for. @defaultValue 50 */
  maxLabels: number;
}

export const DEFAULT_ARTICLE_LIMITS: ArticleLimits = { maxBodyBytes: 1 << 20, maxLabels: 50 };

/** Keys that may hold the body, in order of precedence. */
export const BODY_KEYS = ['body', 'text', 'content'] as const;

const isoDate = z.union([z.iso.datetime({ offset: true, local: true }), z.iso.date()]);

/** Input message (DESIGN.md §2). Unknown keys pass through untouched. */
const ArticleSchema = z
  .object({
    id: z.string().min(1).max(512).optional(),
    body: z.string().optional(),
    text: z.string().optional(),
    content: z.string().optional(),
    title: z.string().optional(),
    url: z.string().optional(),
    source: z.string().optional(),
    language: z.string().optional(),
    published_at: isoDate.optional(),
    labels: z.array(z.string().min(1).max(100)).min(1).optional(),
    /** Relation names for this article (an empty list asks none). */
    relations: z.array(z.string().min(1).max(100)).optional(),
  })
  .passthrough();

/** A validated article. */
export interface Article {
  id: string;
  /** Text fields to extract from: `title` (if present) and the body under its own key. */
  fields: FieldText[];
  /** Per-message label override, when given. */
  labels?: string[];
  /** Per-message relation names, when given. */
  relations?: string[];
  /** The message as received; the output keeps every key of it. */
  raw: Record<string, unknown>;
}

/**
 * Validates a parsed message. `key` is the Kafka key (UTF-8), used when the message has
 * no `id`. Throws EnricherError with MESSAGE_SCHEMA, MESSAGE_TOO_LARGE or MESSAGE_NO_ID.
 */
export function parseArticle(value: unknown, key: string | undefined, limits: ArticleLimits = DEFAULT_ARTICLE_LIMITS): Article {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EnricherError('MESSAGE_SCHEMA', `message must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const parsed = ArticleSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EnricherError('MESSAGE_SCHEMA', issues);
  }
  const a = parsed.data;
  const id = a.id ?? (key !== undefined && key !== '' ? key : undefined);
  if (id === undefined) throw new EnricherError('MESSAGE_NO_ID', 'message has no "id" and no Kafka key');
  const bodyKey = BODY_KEYS.find((k) => a[k] !== undefined);
  const body = bodyKey === undefined ? undefined : a[bodyKey];
  if (bodyKey === undefined || body === undefined || body.trim() === '') {
    throw new EnricherError('MESSAGE_SCHEMA', 'message needs a non-empty "body" (or "text" / "content") string', { context: { articleId: id } });
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > limits.maxBodyBytes) {
    throw new EnricherError('MESSAGE_TOO_LARGE', `body is ${bytes} bytes, above the limit of ${limits.maxBodyBytes}`, { context: { articleId: id } });
  }
  if (a.labels !== undefined && a.labels.length > limits.maxLabels) {
    throw new EnricherError('MESSAGE_SCHEMA', `message asks for ${a.labels.length} labels, above the limit of ${limits.maxLabels}`, {
      context: { articleId: id },
    });
  }
  if (a.relations !== undefined) {
    if (a.relations.length > limits.maxLabels) {
      throw new EnricherError('MESSAGE_SCHEMA', `message asks for ${a.relations.length} relations, above the limit of ${limits.maxLabels}`, { context: { articleId: id } });
    }
    for (const name of a.relations) {
      const problem = relationNameProblem(name);
      if (problem !== undefined) throw new EnricherError('MESSAGE_SCHEMA', `relation ${JSON.stringify(name)} ${problem}`, { context: { articleId: id } });
    }
  }
  const fields: FieldText[] = [];
  if (a.title !== undefined && a.title.trim() !== '') fields.push({ field: 'title', text: a.title });
  fields.push({ field: bodyKey, text: body });
  return { id, fields, ...(a.labels ? { labels: a.labels } : {}), ...(a.relations ? { relations: a.relations } : {}), raw: value as Record<string, unknown> };
}

// `fatal`: invalid UTF-8 is refused, never replaced. A leading byte-order mark is dropped
// (the decoder's default), so a value or a file line that starts with one is accepted.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Largest message value worth decoding: a body at the limit, escaped (at most doubling it),
 * plus room for the other fields. Larger values are MESSAGE_TOO_LARGE without being parsed.
 */
export function maxValueBytes(limits: ArticleLimits): number {
  return limits.maxBodyBytes * 2 + 65536;
}

/**
 * Decodes a message value (UTF-8 JSON) and validates it. The one input rule of the service
 * and of `extract`: MESSAGE_INVALID_JSON (empty or not JSON), MESSAGE_TOO_LARGE,
 * MESSAGE_INVALID_UTF8, MESSAGE_TOO_DEEP (nesting above MAX_JSON_DEPTH), then parseArticle's.
 */
export function decodeArticle(value: Uint8Array | null, key: string | undefined, limits: ArticleLimits = DEFAULT_ARTICLE_LIMITS): Article {
  if (value === null || value.length === 0) throw new EnricherError('MESSAGE_INVALID_JSON', 'message has no value (tombstone or empty)');
  // Bodies are bounded by bytes; refuse values far above that before parsing them.
  if (value.length > maxValueBytes(limits)) {
    throw new EnricherError('MESSAGE_TOO_LARGE', `message value is ${value.length} bytes, above what a ${limits.maxBodyBytes}-byte body needs`);
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch (err) {
    throw new EnricherError('MESSAGE_INVALID_UTF8', 'message value is not valid UTF-8', { cause: err });
  }
  if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
    throw new EnricherError('MESSAGE_TOO_DEEP', `message nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EnricherError('MESSAGE_INVALID_JSON', `message value is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseArticle(json, key, limits);
}
