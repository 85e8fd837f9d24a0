/** `news-enricher extract`'s flags, exit codes and help: kept apart so the top-level help loads no engine. */
import { COMMON_FLAGS, usage, type FlagSpec } from './flags.js';

export const EXTRACT_FLAGS = {
  ...COMMON_FLAGS,
  input: { type: 'string', path: undefined, help: 'JSONL articles to read (default: stdin)' },
  output: { type: 'string', path: undefined, help: 'where to write enriched JSONL (default: stdout)' },
  // 0.1.0's "articles per inference call"; the articles in flight are now a sliding window, as in the service.
  chunk: { type: 'string', path: 'inference.concurrency', renamedTo: 'concurrency', help: '' },
  help: { type: 'boolean', path: undefined, help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

/** Exit codes of `extract`. */
export const EXTRACT_EXIT = { ok: 0, failed: 1, linesFailed: 3 } as const;

export const EXTRACT_USAGE = `news-enricher extract --model DIR [options] < articles.jsonl > enriched.jsonl
Reads one article per line ({"id", "body"|"text"|"content", "title"?, "labels"?, …}; a line
without "id" gets the id "line-<n>", its line number), writes one enriched article per line in
input order. Lines are checked as the service checks a message (UTF-8 without replacement, a
leading byte-order mark accepted, nesting depth, sizes, schema). A bad line gives an error
record on stderr ({"line", "error": {"code", "message"}}) and the run goes on; a summary line
({"summary": {"lines", "enriched", "failed", "errors": {code: count}, …}}) ends stderr.
Exit status: 0 every line enriched, ${EXTRACT_EXIT.linesFailed} some lines failed, ${EXTRACT_EXIT.failed} the run failed (configuration, model).
${usage(EXTRACT_FLAGS)}`;
