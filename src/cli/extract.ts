import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseArticle, type Article } from '../article.js';
import { loadConfig } from '../config-load.js';
import type { Config } from '../config.js';
import { buildEnrichedArticle } from '../enriched.js';
import { EnricherError, toEnricherError } from '../errors.js';
import { GlinerEngine } from '../gliner/engine.js';
import { decodeOptions, engineOptions, windowOptions } from '../inference/options.js';
import { createLogger, type Logger } from '../logger.js';
import { ENRICHER_VERSION } from '../version.js';
import { COMMON_FLAGS, parseFlags, usage, type FlagSpec } from './flags.js';

const EXTRACT_FLAGS = {
  ...COMMON_FLAGS,
  input: { type: 'string', path: undefined, help: 'JSONL articles to read (default: stdin)' },
  output: { type: 'string', path: undefined, help: 'where to write enriched JSONL (default: stdout)' },
  chunk: { type: 'string', path: undefined, help: 'articles per inference call (their windows share batches; default 64)' },
  help: { type: 'boolean', path: undefined, help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

export const EXTRACT_USAGE = `news-enricher extract --model DIR [options] < articles.jsonl > enriched.jsonl

Reads one article per line ({"id", "body"|"text"|"content", "title"?, "labels"?, …}), writes one
enriched article per line in input order. A bad line gives an error record on stderr
({"line", "error": {"code", "message"}}) and the run goes on.

${usage(EXTRACT_FLAGS)}`;

interface LineArticle {
  line: number;
  article: Article;
}

/** Totals reported at the end of a run. */
export interface ExtractStats {
  articles: number;
  errors: number;
  words: number;
  entities: number;
  seconds: number;
}

/** `news-enricher extract`: JSONL in, enriched JSONL out, in process (no Kafka). */
export async function extractCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, EXTRACT_FLAGS);
  if (flags.values.help === true) {
    process.stdout.write(`${EXTRACT_USAGE}\n`);
    return 0;
  }
  const config = loadConfig({
    ...(typeof flags.values.config === 'string' ? { file: flags.values.config } : {}),
    overrides: flags.overrides,
  });
  const logger = createLogger(config.logLevel, pino.destination(2)).child({ component: 'extract' });
  if (config.model.dir === undefined) throw new EnricherError('CONFIG_INVALID', `--model (or MODEL_DIR) is required\n${EXTRACT_USAGE}`);
  const chunk = Number(flags.values.chunk ?? 64);
  if (!Number.isInteger(chunk) || chunk < 1) throw new EnricherError('CONFIG_INVALID', `--chunk must be a positive integer`);

  const engine = await GlinerEngine.load(config.model.dir, engineOptions(config));
  logger.info({ model: engine.model }, 'model loaded');
  const input = typeof flags.values.input === 'string' ? createReadStream(flags.values.input) : process.stdin;
  const output: Writable = typeof flags.values.output === 'string' ? createWriteStream(flags.values.output) : process.stdout;
  try {
    const stats = await runExtract(engine, config, createInterface({ input, crlfDelay: Infinity }), output, chunk, logger);
    logger.info({ ...stats, wordsPerSecond: Math.round(stats.words / stats.seconds) }, 'extract finished');
  } finally {
    await engine.close();
    if (output !== process.stdout) {
      output.end();
      await once(output, 'finish');
    }
  }
  return 0;
}

/** The loop, separated from argument handling for tests. */
export async function runExtract(
  engine: GlinerEngine,
  config: Readonly<Config>,
  lines: AsyncIterable<string>,
  output: Writable,
  chunkSize: number,
  logger: Logger,
): Promise<ExtractStats> {
  const t0 = performance.now();
  const stats: ExtractStats = { articles: 0, errors: 0, words: 0, entities: 0, seconds: 0 };
  const limits = { maxBodyBytes: config.maxBodyBytes, maxLabels: config.inference.maxLabelsPerMessage };
  let pending: LineArticle[] = [];
  let lineNo = 0;

  const reportError = (line: number, err: unknown): void => {
    stats.errors += 1;
    const e = toEnricherError(err, 'MESSAGE_SCHEMA');
    process.stderr.write(`${JSON.stringify({ line, error: { code: e.code, message: e.message } })}\n`);
  };

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    const out = await enrichChunk(engine, config, batch, reportError, stats);
    for (const text of out) if (!output.write(text)) await once(output, 'drain');
  };

  for await (const raw of lines) {
    lineNo += 1;
    if (raw.trim() === '') continue;
    try {
      pending.push({ line: lineNo, article: parseArticle(JSON.parse(raw) as unknown, `line-${lineNo}`, limits) });
    } catch (err) {
      reportError(lineNo, err instanceof SyntaxError ? new EnricherError('MESSAGE_INVALID_JSON', `invalid JSON: ${err.message}`) : err);
      continue;
    }
    if (pending.length >= chunkSize) await flush();
  }
  if (pending.length > 0) await flush();
  stats.seconds = (performance.now() - t0) / 1000;
  logger.debug({ timing: engine.timing }, 'stage times (ms)');
  return stats;
}

/** Enriches a chunk: articles sharing a label set go through one `predict` call. */
async function enrichChunk(
  engine: GlinerEngine,
  config: Readonly<Config>,
  batch: readonly LineArticle[],
  reportError: (line: number, err: unknown) => void,
  stats: ExtractStats,
): Promise<string[]> {
  const decode = decodeOptions(config);
  const window = windowOptions(config);
  const out = new Array<string | undefined>(batch.length);
  const groups = new Map<string, number[]>();
  batch.forEach((b, i) => {
    const labels = config.inference.allowMessageLabels && b.article.labels ? b.article.labels : config.inference.labels;
    const key = JSON.stringify(labels);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const [key, members] of groups) {
    const labels = JSON.parse(key) as string[];
    const texts = members.flatMap((i) => batch[i]!.article.fields.map((f) => f.text));
    const t0 = performance.now();
    let results;
    try {
      results = await engine.predict(texts, { ...decode, labels, window, mergeAdjacent: config.inference.mergeAdjacent });
    } catch (err) {
      // A request-level problem (e.g. labels) fails the articles of this group only.
      for (const i of members) reportError(batch[i]!.line, err);
      continue;
    }
    const durationMs = performance.now() - t0;
    let r = 0;
    for (const i of members) {
      const { article } = batch[i]!;
      const fields = article.fields.map((f) => ({ field: f.field, ...results[r++]! }));
      const enriched = buildEnrichedArticle(article, fields, {
        model: engine.model,
        labels,
        decode,
        durationMs,
        processedAt: new Date(),
        version: ENRICHER_VERSION,
      });
      stats.articles += 1;
      stats.words += fields.reduce((a, f) => a + f.words, 0);
      stats.entities += enriched.entities.length;
      out[i] = `${JSON.stringify(enriched)}\n`;
    }
  }
  return out.filter((s): s is string => s !== undefined);
}
