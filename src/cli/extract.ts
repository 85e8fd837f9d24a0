import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pino } from 'pino';
import { decodeArticle, maxValueBytes, type Article } from '../article.js';
import { loadConfig } from '../config-load.js';
import type { Config } from '../config.js';
import { buildEnrichedArticle } from '../enriched.js';
import { EnricherError, toEnricherError, type ErrorCode } from '../errors.js';
import type { EntityExtractor } from '../core/extraction.js';
import { addTiming, type BatchTiming } from '../gliner/runner.js';
import { createExtractor } from '../inference/create-extractor.js';
import { preflightModel } from '../inference/model-settings.js';
import { decodeOptions, windowOptions } from '../inference/options.js';
import { createLogger, type Logger } from '../logger.js';
import { labelsFor } from '../pipeline/article-processor.js';
import { PER_MESSAGE_CODES } from '../pipeline/fate.js';
import { redactUrlCredentials } from '../redact.js';
import { ENRICHER_VERSION } from '../version.js';
import { byteLines, isBlank, openInput, openOutput } from './byte-lines.js';
import { EXTRACT_EXIT, EXTRACT_FLAGS, EXTRACT_USAGE } from './extract-usage.js';
import { parseFlags } from './flags.js';




interface LineArticle {
  line: number;
  article: Article;
}

/** Totals reported at the end of a run (the summary line). */
export interface ExtractStats {
  /** Non-blank input lines read. */
  lines: number;
  enriched: number;
  failed: number;
  /** Failed lines per error code. */
  errors: Partial<Record<ErrorCode, number>>;
  words: number;
  entities: number;
  seconds: number;
}

/** `news-enricher extract`: JSONL in, enriched JSONL out, in process (no Kafka). */
export async function extractCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, EXTRACT_FLAGS);
  if (flags.values.help === true) {
    process.stdout.write(`${EXTRACT_USAGE}\n`);
    return EXTRACT_EXIT.ok;
  }
  const config = loadConfig({
    ...(typeof flags.values.config === 'string' ? { file: flags.values.config } : {}),
    overrides: flags.overrides,
  });
  const logger = createLogger(config.logLevel, pino.destination(2)).child({ component: 'extract' });
  for (const message of flags.deprecated) logger.warn(message);
  if (config.model.dir === undefined) throw new EnricherError('CONFIG_INVALID', `--model (or MODEL_DIR) is required\n${EXTRACT_USAGE}`);
  const chunk = Number(flags.values.chunk ?? 64);
  if (!Number.isInteger(chunk) || chunk < 1) throw new EnricherError('CONFIG_INVALID', `--chunk must be a positive integer`);
  // Everything that can be wrong with the command line fails before the model loads.
  const input: Readable = typeof flags.values.input === 'string' ? await openInput(flags.values.input, '--input') : process.stdin;
  const { window, modelText } = preflightModel(config);
  logger.debug({ window }, 'model settings checked');
  const output: Writable = typeof flags.values.output === 'string' ? await openOutput(flags.values.output, '--output') : process.stdout;

  // The service's extractor, as configured (INFERENCE_WORKERS threads; 0 = this thread).
  const timing: BatchTiming = { encodeMs: 0, runMs: 0, decodeMs: 0 };
  const engine = await createExtractor(config, logger, { onBatch: (b) => addTiming(timing, b), modelText });
  let stats: ExtractStats;
  try {
    stats = await runExtract(engine, config, input, output, chunk, logger);
    logger.debug({ timing }, 'stage times (ms)');
    logger.info({ ...stats, wordsPerSecond: Math.round(stats.words / stats.seconds) }, 'extract finished');
  } finally {
    await engine.close();
    if (output !== process.stdout) {
      output.end();
      await once(output, 'finish');
    }
  }
  process.stderr.write(`${JSON.stringify({ summary: stats })}\n`);
  return stats.failed > 0 ? EXTRACT_EXIT.linesFailed : EXTRACT_EXIT.ok;
}

/** The loop, separated from argument handling for tests. `input` is JSONL bytes. */
export async function runExtract(
  engine: EntityExtractor,
  config: Readonly<Config>,
  input: AsyncIterable<Buffer | string>,
  output: Writable,
  chunkSize: number,
  logger: Logger,
): Promise<ExtractStats> {
  const t0 = performance.now();
  const stats: ExtractStats = { lines: 0, enriched: 0, failed: 0, errors: {}, words: 0, entities: 0, seconds: 0 };
  const limits = { maxBodyBytes: config.maxBodyBytes, maxLabels: config.inference.maxLabelsPerMessage };
  let pending: LineArticle[] = [];

  const reportError = (line: number, err: unknown): void => {
    const e = toEnricherError(err, 'MESSAGE_SCHEMA');
    stats.failed += 1;
    stats.errors[e.code] = (stats.errors[e.code] ?? 0) + 1;
    process.stderr.write(`${redactUrlCredentials(JSON.stringify({ line, error: { code: e.code, message: e.message } }))}\n`);
  };

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    const out = await enrichChunk(engine, config, batch, reportError, stats);
    for (const text of out) if (!output.write(text)) await once(output, 'drain');
  };

  for await (const l of byteLines(input, maxValueBytes(limits))) {
    if (l.bytes !== null && isBlank(l.bytes)) continue;
    stats.lines += 1;
    try {
      if (l.bytes === null) throw new EnricherError('MESSAGE_TOO_LARGE', `line is ${l.length} bytes, above what a ${limits.maxBodyBytes}-byte body needs`);
      // The line number stands in for the Kafka key: a line without "id" gets "line-<n>".
      pending.push({ line: l.line, article: decodeArticle(l.bytes, `line-${l.line}`, limits) });
    } catch (err) {
      reportError(l.line, err);
      continue;
    }
    if (pending.length >= chunkSize) await flush();
  }
  if (pending.length > 0) await flush();
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

/**
 * Enriches a chunk: every article is one extractor request, as a Kafka message is in the
 * service; they run concurrently, so windows of articles with the same labels share batches.
 * Results are written in input order.
 */
async function enrichChunk(
  engine: EntityExtractor,
  config: Readonly<Config>,
  batch: readonly LineArticle[],
  reportError: (line: number, err: unknown) => void,
  stats: ExtractStats,
): Promise<string[]> {
  const decode = decodeOptions(config);
  const window = windowOptions(config);
  const settled = await Promise.allSettled(
    batch.map(async ({ article }) => {
      const labels = labelsFor(article, config);
      const t0 = performance.now();
      const fields = await engine.extract({ fields: article.fields, labels, decode, window, mergeAdjacent: config.inference.mergeAdjacent });
      return { labels, fields, durationMs: performance.now() - t0 };
    }),
  );
  const out: string[] = [];
  settled.forEach((result, i) => {
    const { article, line } = batch[i]!;
    if (result.status === 'rejected') {
      // A problem of this message (its labels, its text) fails it only; anything else (the
      // model, the options) fails the run, as it would stop the service.
      if (!PER_MESSAGE_CODES.has(toEnricherError(result.reason, 'INFERENCE_FAILED').code)) throw result.reason;
      reportError(line, result.reason);
      return;
    }
    const { labels, fields, durationMs } = result.value;
    try {
      const enriched = buildEnrichedArticle(article, fields, {
        model: engine.model,
        labels,
        decode,
        durationMs,
        processedAt: new Date(),
        version: ENRICHER_VERSION,
      });
      out.push(`${JSON.stringify(enriched)}\n`);
      stats.entities += enriched.entities.length;
    } catch (err) {
      reportError(line, new EnricherError('OUTPUT_INVALID', `enriched article cannot be serialised: ${(err as Error).message}`, { cause: err }));
      return;
    }
    stats.enriched += 1;
    stats.words += fields.reduce((a, f) => a + f.words, 0);
  });
  return out;
}
