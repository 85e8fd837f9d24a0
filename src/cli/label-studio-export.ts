import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { labelMapSchema } from '../config.js';
import { EnricherError } from '../errors.js';
import { tasksToExamples, type LabelStudioTask } from '../label-studio/annotations.js';
import { openOutput } from './byte-lines.js';
import { parseFlags, usage, type FlagSpec } from './flags.js';

const FLAGS = {
  input: { type: 'string', path: undefined, help: "Label Studio JSON export (Export → JSON: an array of tasks) (required)" },
  output: { type: 'string', path: undefined, help: 'where to write the training JSONL (default: stdout)' },
  'text-field': { type: 'string', path: undefined, help: 'task data field with the text: the $field of <Text value> (default: text)' },
  'label-map': { type: 'string', path: undefined, help: 'Label value → training label, e.g. PER=person,ORG=organization (default: values as they are)' },
  help: { type: 'boolean', path: undefined, help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

export const LABEL_STUDIO_EXPORT_USAGE = `news-enricher label-studio-export --input export.json [--output train.jsonl] [options]
Writes one GLiNER training example per annotated task ({"id", "text", "tokenized_text", "ner":
[[first, last, label]]}: inclusive word spans on the models' word splitter, the format of the
project's NER data). Each annotation
region that does not fall on word boundaries is reported on stderr ({"skipped": …}) rather than
moved; the last stderr line is a summary. Exit 0: every region converted; 3: some were skipped.
${usage(FLAGS)}`;

/** `PER=person,ORG=organization` → a map (the config's LABEL_STUDIO_LABEL_MAP syntax); refused when malformed. */
export function parseLabelMap(text: string): Record<string, string> {
  const parsed = labelMapSchema.safeParse(text);
  if (!parsed.success) throw new EnricherError('CONFIG_INVALID', `--label-map "${text}": each entry is VALUE=label, both non-empty`);
  return parsed.data;
}

/** `news-enricher label-studio-export`: a Label Studio export to training JSONL. */
export async function labelStudioExportCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.values.help === true) {
    process.stdout.write(`${LABEL_STUDIO_EXPORT_USAGE}\n`);
    return 0;
  }
  const input = flags.values.input;
  if (typeof input !== 'string') throw new EnricherError('CONFIG_INVALID', `--input is required\n${LABEL_STUDIO_EXPORT_USAGE}`);
  const labelMap = typeof flags.values['label-map'] === 'string' ? parseLabelMap(flags.values['label-map']) : undefined;
  const textField = typeof flags.values['text-field'] === 'string' ? flags.values['text-field'] : undefined;
  let tasks: unknown;
  try {
    tasks = JSON.parse(await readFile(input, 'utf8'));
  } catch (err) {
    throw new EnricherError('CONFIG_INVALID', `--input ${input}: cannot read a JSON export (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(tasks) || !tasks.every((t) => typeof t === 'object' && t !== null && typeof (t as { data?: unknown }).data === 'object')) {
    throw new EnricherError('CONFIG_INVALID', `--input ${input} is not Label Studio's JSON export (an array of tasks with "data"; JSON-MIN and CSV exports lack the offsets' context)`);
  }
  const r = tasksToExamples(tasks as LabelStudioTask[], { ...(labelMap ? { labelMap } : {}), ...(textField ? { textField } : {}) });
  const output: Writable = typeof flags.values.output === 'string' ? await openOutput(flags.values.output, '--output') : process.stdout;
  for (const ex of r.examples) if (!output.write(`${JSON.stringify(ex)}\n`)) await once(output, 'drain');
  if (output !== process.stdout) {
    output.end();
    await once(output, 'finish');
  }
  for (const s of r.skipped) process.stderr.write(`${JSON.stringify({ skipped: s })}\n`);
  const spans = r.examples.reduce((a, e) => a + e.ner.length, 0);
  process.stderr.write(`${JSON.stringify({ summary: { tasks: tasks.length, examples: r.examples.length, unannotated: r.unannotated, spans, skipped: r.skipped.length } })}\n`);
  return r.skipped.length > 0 ? 3 : 0;
}
