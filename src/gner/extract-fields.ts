import type { ExtractionRequest, FieldEntities } from '../core/extraction.js';
import type { Entity } from '../core/types.js';
import { EnricherError } from '../errors.js';
import { sentenceEnds, splitWords, wordAt, type Words } from '../gliner/words.js';
import { parseGnerOutput } from './parse.js';
import { gnerLabels, gnerPromptHead } from './prompt.js';
import { planUnits, type UnitLimits } from './units.js';

/**
 * One article through a GNER model: every field's words (the reference word splitter, UTF-16
 * offsets), cut into sentence prompts (`units.ts`), generated in batches, parsed back with the
 * evaluator's rules (`parse.ts`) into entities with article offsets. Runs where the model is
 * (a GNER worker thread, or the calling thread with 0 workers).
 */

/** What this module needs of a model (`GnerModel`; fakes in unit tests). */
export interface GnerGenerator {
  tokenCount(text: string): number;
  backTokenize(word: string): string;
  generate(prompts: readonly string[], maxNewTokens: number): Promise<Array<{ text: string; ids: number[]; finished: boolean }>>;
}

export interface GnerSettings {
  /** Prompts per `generate` call. */
  batchSize: number;
  /** Encoder budget per prompt, `</s>` included (GNER: 640). */
  maxSourceTokens: number;
  /** Cap on generated tokens per prompt (GNER: 640). */
  maxNewTokens: number;
  /** 0: one sentence per prompt; N: consecutive sentences up to N words. */
  groupWords: number;
  /** GNER's optional `Dataset: X.` line; none by default. */
  dataset?: string;
}

/** Counters of one request, for logs and metrics. */
export interface GnerStats {
  prompts: number;
  batches: number;
  generatedTokens: number;
  /** Prompts whose generation hit the token cap before `</s>` (their last words read as O). */
  capped: number;
}

/** The request options a GNER model cannot honour, refused like any bad request (OPTIONS_INVALID). */
export function checkGnerRequest(request: ExtractionRequest): string[] {
  if (request.relations !== undefined && request.relations.names.length > 0) {
    throw new EnricherError('OPTIONS_INVALID', 'relations need a GLiNER model (native relation model or the multitask prompt); MODEL_BACKEND=gner finds entities only');
  }
  if (request.taskPrompt !== undefined && request.taskPrompt !== '') {
    throw new EnricherError('OPTIONS_INVALID', 'a task prompt (multitask relations) needs a GLiNER model; MODEL_BACKEND=gner finds entities only');
  }
  return gnerLabels(request.labels);
}

/** Sub-tokens of a word (without `</s>`, at least 1), memoised for one request. */
export function wordTokenCounter(model: Pick<GnerGenerator, 'tokenCount'>): (word: string) => number {
  const cache = new Map<string, number>();
  return (w) => {
    let t = cache.get(w);
    if (t === undefined) {
      t = Math.max(1, model.tokenCount(w) - 1);
      cache.set(w, t);
    }
    return t;
  };
}

/** A field's prompts as `units.ts` plans them: where each starts, its words, their sub-tokens. */
export function fieldUnits(words: Words, tokensOf: (word: string) => number, limits: UnitLimits): Array<{ first: number; words: string[]; tokens: number }> {
  const strings = Array.from({ length: words.count }, (_, i) => wordAt(words, i));
  const counts = strings.map(tokensOf);
  return planUnits(counts, sentenceEnds(words), limits).map((u) => ({
    first: u.first,
    words: strings.slice(u.first, u.last + 1),
    tokens: counts.slice(u.first, u.last + 1).reduce((a, b) => a + b, 0),
  }));
}

export async function extractFieldsGner(
  model: GnerGenerator,
  request: ExtractionRequest,
  settings: GnerSettings,
  stats: GnerStats,
  signal?: AbortSignal,
): Promise<FieldEntities[]> {
  const labels = checkGnerRequest(request);
  const head = gnerPromptHead(labels, settings.dataset);
  const headTokens = model.tokenCount(head) - 1; // without its `</s>`, which the whole prompt has once
  const textTokens = settings.maxSourceTokens - headTokens - 1;
  if (textTokens < 8) {
    throw new EnricherError('LABELS_INVALID', `the GNER prompt for ${labels.length} labels takes ${headTokens} of ${settings.maxSourceTokens} sub-tokens (GNER_MAX_SOURCE_TOKENS): use fewer or shorter labels`);
  }
  // The longest tag in tokens (not characters) bounds what the model writes after each word.
  const tagTokens = Math.max(...labels.map((l) => model.tokenCount(`(I-${l})`) - 1));
  const unreadable = labels.filter((l) => model.backTokenize(l) !== l);
  if (unreadable.length > 0) {
    throw new EnricherError(
      'LABELS_INVALID',
      `labels ${JSON.stringify(unreadable)} do not survive this model's tokenizer (characters outside its vocabulary or changed by its normalizer): its tags could never name them`,
    );
  }
  const tokensOf = wordTokenCounter(model);

  /** Every prompt of the request, with where its words are. */
  const jobs: Array<{ field: number; first: number; words: string[]; budget: number }> = [];
  const fields = request.fields.map((f) => splitWords(f.text));
  fields.forEach((words, field) => {
    for (const u of fieldUnits(words, tokensOf, { textTokens, groupWords: settings.groupWords })) {
      // A well-formed answer repeats each word with its tag: that many tokens and a little slack.
      jobs.push({ field, first: u.first, words: u.words, budget: Math.min(settings.maxNewTokens, u.tokens + u.words.length * tagTokens + 8) });
    }
  });

  const results: FieldEntities[] = request.fields.map((f, i) => ({ field: f.field, entities: [], windows: 0, words: fields[i]!.count }));
  for (let b = 0; b < jobs.length; b += settings.batchSize) {
    signal?.throwIfAborted();
    const batch = jobs.slice(b, b + settings.batchSize);
    const maxNew = Math.max(...batch.map((j) => j.budget));
    const outs = await model.generate(batch.map((j) => head + j.words.join(' ')), maxNew);
    stats.batches += 1;
    batch.forEach((job, k) => {
      const out = outs[k]!;
      stats.prompts += 1;
      stats.generatedTokens += out.ids.length - 1;
      if (!out.finished) stats.capped += 1;
      const { spans } = parseGnerOutput(out.text, job.words, labels, (w) => model.backTokenize(w));
      const words = fields[job.field]!;
      const result = results[job.field]!;
      result.windows += 1;
      for (const s of spans) {
        const start = words.starts[job.first + s.start]!;
        const end = words.ends[job.first + s.end]!;
        const entity: Entity = { start, end, text: words.text.slice(start, end), label: s.label, score: 1 };
        result.entities.push(entity);
      }
    });
  }
  return results;
}
