/**
 * Word splitting identical to the reference `WhitespaceTokenSplitter`
 * (`\w+(?:[-_]\w+)*|\S` under Python's Unicode rules), with UTF-16 offsets.
 *
 * Python's `\w` is `[\p{L}\p{N}_]`. Python's `\s` also counts U+001C–U+001F and
 * U+0085 as space and does not count U+FEFF, so `\S` becomes the two last
 * alternatives below. The `u` flag keeps surrogate pairs (emoji) whole.
 */
const WORD_RE = /[\p{L}\p{N}_]+(?:[-_][\p{L}\p{N}_]+)*|[^\s\u001c-\u001f\u0085]|\uFEFF/gu;

/** Words of one text: parallel arrays of UTF-16 offsets (end exclusive). */
export interface Words {
  readonly text: string;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly count: number;
}

/**
 * Splits `text` into words with UTF-16 offsets. A text with no words is what the
 * reference skips as "empty or whitespace only" (Python's `str.strip()` rules).
 */
export function splitWords(text: string): Words {
  const starts: number[] = [];
  const ends: number[] = [];
  for (const m of text.matchAll(WORD_RE)) {
    const start = m.index;
    starts.push(start);
    ends.push(start + m[0].length);
  }
  return { text, starts: Int32Array.from(starts), ends: Int32Array.from(ends), count: starts.length };
}

/** The string of word `i`. */
export function wordAt(words: Words, i: number): string {
  return words.text.slice(words.starts[i], words.ends[i]);
}

/**
 * Maps Python code-point offsets to UTF-16 offsets for `text`. Used to compare with
 * reference outputs and to accept offsets from Python producers.
 */
export function codePointToUtf16(text: string): (cp: number) => number {
  const table: number[] = [];
  let u = 0;
  for (const ch of text) {
    table.push(u);
    u += ch.length;
  }
  table.push(u);
  return (cp: number) => {
    const v = table[cp];
    if (v === undefined) throw new RangeError(`code point offset ${cp} outside text of ${table.length - 1} code points`);
    return v;
  };
}

/**
 * Sentence boundaries as word indices: `true` at i means a sentence ends after word i
 * (sentence-final punctuation, or a line break before the next word). Used to cut
 * long texts where the model loses the least context.
 */
export function sentenceEnds(words: Words): Uint8Array {
  const out = new Uint8Array(words.count);
  for (let i = 0; i < words.count; i++) {
    const w = words.text.slice(words.starts[i], words.ends[i]);
    if (SENTENCE_FINAL.has(w)) {
      out[i] = 1;
      continue;
    }
    const nextStart = i + 1 < words.count ? words.starts[i + 1]! : words.text.length;
    const gap = words.text.slice(words.ends[i], nextStart);
    if (gap.includes('\n') || gap.includes('\u2029')) out[i] = 1;
  }
  return out;
}

const SENTENCE_FINAL = new Set(['.', '!', '?', '…', '。', '！', '？', '؟', '।', '\u203D']);
