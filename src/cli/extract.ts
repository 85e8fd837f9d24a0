import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pino } from 'pino';
import { decodeArticle, maxValueBytes, type Article } from '../article.js';
import { loadConfig } from '../config-load.js';
import type { Config } from '../config.js';
import { buildEnrichedArticle } from '../enriched.js';
import { EnricherError, toEnricherError, type ErrorCode } from '../errors.js';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../core/extraction.js';
import type { Relation } from '../core/relations.js';
import { addTiming, type BatchTiming } from '../gliner/runner.js';
import { createExtractor } from '../inference/create-extractor.js';
import { preflightGner } from '../gner/gner-preflight.js';
import type { ModelText } from '../gliner/model-text.js';
import { preflightModel } from '../inference/model-settings.js';
import { decodeOptions, effectiveConcurrency, windowOptions } from '../inference/options.js';
import { createLogger } from '../logger.js';
import { labelsFor } from '../pipeline/article-processor.js';
import { PER_MESSAGE_CODES } from '../pipeline/fate.js';
import { redactUrlCredentials } from '../redact.js';
import { articleRelations, nativeRelationRequest, relationNamesFor } from '../relations/article-relations.js';
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
  // Everything that can be wrong with the command line fails before the model loads.
  const input: Readable = typeof flags.values.input === 'string' ? await openInput(flags.values.input, '--input') : process.stdin;
  let modelText: ModelText | undefined;
  if (config.model.backend === 'gner') logger.debug({ gner: preflightGner(config) }, 'model settings checked');
  else {
    const checked = preflightModel(config);
    logger.debug({ window: checked.window }, 'model settings checked');
    modelText = checked.modelText;
  }
  const output: Writable = typeof flags.values.output === 'string' ? await openOutput(flags.values.output, '--output') : process.stdout;

  // The service's extractor, as configured (INFERENCE_WORKERS threads; 0 = this thread).
  const timing: BatchTiming = { encodeMs: 0, runMs: 0, decodeMs: 0 };
  const engine = await createExtractor(config, logger, { onBatch: (b) => addTiming(timing, b), ...(modelText ? { modelText } : {}) });
  let stats: ExtractStats;
  try {
    stats = await runExtract(engine, config, input, output);
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

/** The extraction settings every line shares, computed once per run from the config. */
type RequestOptions = Pick<ExtractionRequest, 'decode' | 'window' | 'mergeAdjacent'>;

/** What one article became, applied to the stats and the output in input order. */
type LineResult =
  | { kind: 'enriched'; text: string; entities: number; words: number }
  | { kind: 'failed'; line: number; error: unknown }
  | { kind: 'fatal'; error: unknown };

/**
 * The loop, separated from argument handling for tests. `input` is JSONL bytes. Every article
 * is one extractor request, as a Kafka message is in the service, with at most
 * `effectiveConcurrency(config)` (`INFERENCE_CONCURRENCY`) in flight: windows of concurrent
 * articles with the same labels share batches. Results are written in input order; a slow
 * article holds back the writing, not the reading, until the window is full.
 */
export async function runExtract(
  engine: EntityExtractor,
  config: Readonly<Config>,
  input: AsyncIterable<Buffer | string>,
  output: Writable,
): Promise<ExtractStats> {
  const t0 = performance.now();
  const stats: ExtractStats = { lines: 0, enriched: 0, failed: 0, errors: {}, words: 0, entities: 0, seconds: 0 };
  const limits = { maxBodyBytes: config.maxBodyBytes, maxLabels: config.inference.maxLabelsPerMessage };
  const inFlightMax = effectiveConcurrency(config);
  const request: RequestOptions = { decode: decodeOptions(config), window: windowOptions(config), mergeAdjacent: config.inference.mergeAdjacent };
  /** Articles in flight, in input order; each promise resolves (never rejects). */
  const inFlight: Array<Promise<LineResult>> = [];

  const reportError = (line: number, err: unknown): void => {
    const e = toEnricherError(err, 'MESSAGE_SCHEMA');
    stats.failed += 1;
    stats.errors[e.code] = (stats.errors[e.code] ?? 0) + 1;
    process.stderr.write(`${redactUrlCredentials(JSON.stringify({ line, error: { code: e.code, message: e.message } }))}\n`);
  };

  const writeOldest = async (): Promise<void> => {
    const r = await inFlight.shift()!;
    if (r.kind === 'fatal') throw r.error;
    if (r.kind === 'failed') return reportError(r.line, r.error);
    stats.enriched += 1;
    stats.entities += r.entities;
    stats.words += r.words;
    if (!output.write(r.text)) await once(output, 'drain');
  };

  for await (const l of byteLines(input, maxValueBytes(limits))) {
    if (l.bytes !== null && isBlank(l.bytes)) continue;
    stats.lines += 1;
    let article: Article;
    try {
      if (l.bytes === null) throw new EnricherError('MESSAGE_TOO_LARGE', `line is ${l.length} bytes, above what a ${limits.maxBodyBytes}-byte body needs`);
      // The line number stands in for the Kafka key: a line without "id" gets "line-<n>".
      article = decodeArticle(l.bytes, `line-${l.line}`, limits);
    } catch (err) {
      reportError(l.line, err);
      continue;
    }
    inFlight.push(enrichLine(engine, config, request, { line: l.line, article }));
    if (inFlight.length >= inFlightMax) await writeOldest();
  }
  while (inFlight.length > 0) await writeOldest();
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

/** One article to its output line, or why not: a problem of this message fails it only; anything else (the model, the options) fails the run, as it would stop the service. */
async function enrichLine(engine: EntityExtractor, config: Readonly<Config>, request: RequestOptions, { line, article }: LineArticle): Promise<LineResult> {
  const { decode } = request;
  const labels = labelsFor(article, config);
  const t0 = performance.now();
  const relationNames = relationNamesFor(article, config);
  let fields: FieldEntities[];
  let relations: Relation[];
  try {
    const native = nativeRelationRequest(engine, relationNames, config);
    fields = await engine.extract({ ...request, fields: article.fields, labels, ...(native ? { relations: native } : {}) });
    relations = await articleRelations(engine, article.fields, fields, relationNames, config);
  } catch (err) {
    return PER_MESSAGE_CODES.has(toEnricherError(err, 'INFERENCE_FAILED').code) ? { kind: 'failed', line, error: err } : { kind: 'fatal', error: err };
  }
  try {
    const enriched = buildEnrichedArticle(article, fields, {
      model: engine.model,
      labels,
      decode,
      relations: { names: relationNames, threshold: config.inference.relationThreshold, found: relations },
      durationMs: performance.now() - t0,
      processedAt: new Date(),
      version: ENRICHER_VERSION,
    });
    return { kind: 'enriched', text: `${JSON.stringify(enriched)}\n`, entities: enriched.entities.length, words: fields.reduce((a, f) => a + f.words, 0) };
  } catch (err) {
    return { kind: 'failed', line, error: new EnricherError('OUTPUT_INVALID', `enriched article cannot be serialised: ${(err as Error).message}`, { cause: err }) };
  }
}
