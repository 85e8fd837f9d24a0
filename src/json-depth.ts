/**
 * Nesting depth of JSON text, measured before parsing. `JSON.parse` accepts any depth, but
 * everything after it that walks the value recursively (`JSON.stringify`, the Elasticsearch
 * client, structured clone) overflows the stack a few thousand levels down — on a message
 * that then fails every time it is read. Measuring the text first keeps such a message a
 * message problem (MESSAGE_TOO_DEEP) instead of a crash.
 */

/** Deepest nesting of objects and arrays a message may have; `{"a": [1]}` is 2 levels. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether `text` nests objects and arrays deeper than `limit` levels. One pass over the
 * UTF-16 code units, stopping at the first level above the limit; brackets inside strings
 * (escapes included) do not count. Malformed text is not judged here: `JSON.parse` reports it.
 */
export function exceedsJsonDepth(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
