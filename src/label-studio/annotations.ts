import { EnricherError } from '../errors.js';
import { splitWords } from '../gliner/words.js';

/**
 * Label Studio annotations → GLiNER training examples. Label Studio's `labels` results give
 * character offsets as JavaScript string indices (UTF-16), as ours are; GLiNER trains on
 * words (`tokenized_text`, the whitespace splitter the models use) with inclusive word spans
 * (`ner: [[first, last, label]]`). A span that does not start at a word's start and end at a
 * word's end cannot be expressed in words without moving it: it is reported, never shifted.
 * (The upstream GLiNER Label Studio example produced exclusive ends and moved spans at word 0.)
 */

/** One `labels` region of an annotation's `result` (other result types are ignored). */
export interface LabelRegion {
  readonly id?: string | undefined;
  readonly from_name?: string | undefined;
  readonly to_name?: string | undefined;
  readonly type: string;
  readonly value: { readonly start?: unknown; readonly end?: unknown; readonly text?: unknown; readonly labels?: unknown };
}

export interface LabelStudioAnnotation {
  readonly id?: number | string | undefined;
  readonly result?: readonly LabelRegion[] | undefined;
  readonly was_cancelled?: boolean | undefined;
  readonly updated_at?: string | undefined;
}

/** A task as Label Studio's JSON export and its API give it. */
export interface LabelStudioTask {
  readonly id?: number | string | undefined;
  readonly data: Readonly<Record<string, unknown>>;
  readonly annotations?: readonly LabelStudioAnnotation[] | undefined;
}

/** One GLiNER training example, in the format of the project's NER data (`id`, `text`, `tokenized_text`, `ner`). */
export interface TrainingExample {
  readonly id: string;
  readonly text: string;
  readonly tokenized_text: string[];
  readonly ner: Array<[number, number, string]>;
}

/** A region that could not become a word span, with where it is. */
export interface SkippedRegion {
  readonly task: number | string | undefined;
  readonly annotation: number | string | undefined;
  readonly region: string | undefined;
  readonly start: unknown;
  readonly end: unknown;
  readonly text: string | undefined;
  readonly reason: string;
}

export interface ConversionOptions {
  /** The task data field holding the text (the `$field` of the labeling config's `<Text value>`). @defaultValue 'text' */
  readonly textField?: string;
  /** Label Studio label value → training label (`PER` → `person`); unmapped values are kept as they are. */
  readonly labelMap?: Readonly<Record<string, string>>;
}

export interface Conversion {
  readonly examples: TrainingExample[];
  readonly skipped: SkippedRegion[];
  /** Tasks without a usable annotation (none, or all cancelled). */
  readonly unannotated: number;
}

/** Whitespace as the word splitter sees it (Python's: also U+001C–U+001F and U+0085, not U+FEFF). */
const isSpace = (c: string): boolean => c !== '\uFEFF' && /[\s\u001c-\u001f\u0085]/u.test(c);

/** The annotation a task trains on: its most recently updated one that was not cancelled. */
export function chosenAnnotation(task: LabelStudioTask): LabelStudioAnnotation | undefined {
  const live = (task.annotations ?? []).filter((a) => a.was_cancelled !== true);
  return live.reduce<LabelStudioAnnotation | undefined>((best, a) => (best === undefined || (a.updated_at ?? '') >= (best.updated_at ?? '') ? a : best), undefined);
}

/**
 * Converts tasks to training examples. Regions are trimmed of surrounding whitespace (Label
 * Studio selections often take a trailing space); what then does not sit on word boundaries,
 * has no label, or lies outside the text is reported in `skipped`. Identical spans with the
 * same label are kept once; overlapping spans are kept (GLiNER trains on them as they are).
 */
export function tasksToExamples(tasks: readonly LabelStudioTask[], options: ConversionOptions = {}): Conversion {
  const field = options.textField ?? 'text';
  const examples: TrainingExample[] = [];
  const skipped: SkippedRegion[] = [];
  let unannotated = 0;
  for (const task of tasks) {
    const annotation = chosenAnnotation(task);
    if (annotation === undefined) {
      unannotated += 1;
      continue;
    }
    const text = task.data[field];
    if (typeof text !== 'string') {
      throw new EnricherError('MESSAGE_SCHEMA', `task ${String(task.id)} has no string data.${field} (set the text field to the labeling config's <Text value="$…">)`);
    }
    const words = splitWords(text);
    const wordAtStart = new Map<number, number>();
    const wordAtEnd = new Map<number, number>();
    for (let i = 0; i < words.count; i++) {
      wordAtStart.set(words.starts[i]!, i);
      wordAtEnd.set(words.ends[i]!, i);
    }
    const ner: Array<[number, number, string]> = [];
    const seen = new Set<string>();
    for (const region of annotation.result ?? []) {
      if (region.type !== 'labels') continue;
      const { start, end, labels } = region.value;
      const skip = (reason: string): void => {
        skipped.push({
          task: task.id,
          annotation: annotation.id,
          region: region.id,
          start,
          end,
          text: typeof start === 'number' && typeof end === 'number' ? text.slice(start, end) : undefined,
          reason,
        });
      };
      if (!Number.isInteger(start) || !Number.isInteger(end) || (start as number) < 0 || (end as number) > text.length || (start as number) >= (end as number)) {
        skip(`offsets [${String(start)}, ${String(end)}) are not a span of the ${text.length}-character text`);
        continue;
      }
      if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string' && l !== '')) {
        skip('the region has no labels');
        continue;
      }
      let s = start as number;
      let e = end as number;
      while (s < e && isSpace(text[s]!)) s += 1;
      while (e > s && isSpace(text[e - 1]!)) e -= 1;
      if (s === e) {
        skip('only whitespace');
        continue;
      }
      const first = wordAtStart.get(s);
      const last = wordAtEnd.get(e);
      if (first === undefined || last === undefined) {
        skip(first === undefined ? 'does not start at the start of a word' : 'does not end at the end of a word');
        continue;
      }
      for (const value of labels as string[]) {
        const label = options.labelMap?.[value] ?? value;
        const key = `${first}:${last}:${label}`;
        if (seen.has(key)) continue;
        seen.add(key);
        ner.push([first, last, label]);
      }
    }
    ner.sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
    const tokenized: string[] = [];
    for (let i = 0; i < words.count; i++) tokenized.push(text.slice(words.starts[i]!, words.ends[i]!));
    examples.push({ id: `label-studio-${String(task.id ?? examples.length + 1)}`, text, tokenized_text: tokenized, ner });
  }
  return { examples, skipped, unannotated };
}
