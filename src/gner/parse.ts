/**
 * Reading a GNER model's output back into entities, with the rules of the reference evaluator
 * (yyDing1/GNER `src/gner_evaluator.py`), tested on its own results (`golden-gner-tiny.jsonl`):
 *
 * 1. `extractTagged`: the output is cut at every `(B-…)`, `(I-…)` or `(O)` tag; the text before a
 *    tag (stripped) is its word, empty words are skipped.
 * 2. A tag whose label is not one asked becomes `O`.
 * 3. `matchWords`: output words are aligned to the input words, lower-cased — exactly equal lists;
 *    else the output as an in-order subsequence of the input (first occurrence); else a longest
 *    common subsequence (the reference's O(N log N) LIS construction, so ties resolve as there).
 *    Input words without a match are `O`.
 * 4. `bioSpans`: BIO tags to spans. As in the reference's `parser`, a span is closed by `B-` or
 *    `O` only: an `I-` after `O` opens one, and an `I-` of another type continues the span and
 *    gives it that type (the last tag's).
 */

/** Python's `str.isspace` set (JS `\s` has U+FEFF, lacks U+001C–U+001F and U+0085). */
const PY_SPACE = '\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Python's `str.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(STRIP_RE, '');
}

/** The reference's tag pattern `\(B-.*?\)|\(I-.*?\)|\(O\)`; Python's `.` stops at `\n` only. */
const TAG_RE = /\(B-[^\n]*?\)|\(I-[^\n]*?\)|\(O\)/g;

/** Words and their tags as the model wrote them (step 1). */
export function extractTagged(output: string): { words: string[]; tags: string[] } {
  const text = pyStrip(output);
  const words: string[] = [];
  const tags: string[] = [];
  let from = 0;
  for (const m of text.matchAll(TAG_RE)) {
    const word = pyStrip(text.slice(from, m.index));
    if (word !== '') {
      words.push(word);
      tags.push(pyStrip(m[0].slice(1, -1)));
    }
    from = m.index + m[0].length;
  }
  return { words, tags };
}

/** Tags whose label is not asked become `O` (step 2). */
export function keepKnownTags(tags: readonly string[], labels: readonly string[]): string[] {
  const valid = new Set(labels.flatMap((l) => [`B-${l}`, `I-${l}`]));
  return tags.map((t) => (valid.has(t) ? t : 'O'));
}

/** Index in `b` matched by each word of `a` taken greedily in order, or undefined when `b` is not a subsequence. */
function inOrder(a: readonly string[], b: readonly string[]): number[] | undefined {
  const match = new Array<number>(a.length).fill(-1);
  if (b.length === 0) return match;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[j]) {
      match[i] = j;
      j += 1;
      if (j === b.length) return match;
    }
  }
  return undefined;
}

/**
 * A longest common subsequence of `a` and `b` as the index in `b` matched by each word of `a`
 * (-1: none), built like the reference: every (i, j) with a[i] = b[j], j descending within an i,
 * forms a sequence whose longest strictly increasing subsequence (patience sorting with a
 * parent per pile entry) is traced back from the last entry of the last pile.
 */
function lcsMatch(a: readonly string[], b: readonly string[]): number[] {
  const match = new Array<number>(a.length).fill(-1);
  const positions = new Map<string, number[]>();
  for (let j = b.length - 1; j >= 0; j--) {
    const w = b[j]!;
    const list = positions.get(w);
    if (list === undefined) positions.set(w, [j]);
    else list.push(j);
  }
  const js: number[] = [];
  const is: number[] = [];
  for (let i = 0; i < a.length; i++) {
    for (const j of positions.get(a[i]!) ?? []) {
      js.push(j);
      is.push(i);
    }
  }
  /** piles[k]: entries [parent index in piles[k-1], entry index in js]; piles[0] is the sentinel. */
  const piles: Array<Array<[number, number]>> = [[[-1, -1]]];
  const tops: number[] = [-1];
  for (let e = 0; e < js.length; e++) {
    const j = js[e]!;
    let k: number;
    if (j > tops[tops.length - 1]!) {
      k = tops.length;
      piles.push([]);
      tops.push(j);
    } else {
      let lo = 0;
      let hi = tops.length - 1;
      k = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (tops[mid]! >= j) {
          k = mid;
          hi = mid - 1;
        } else lo = mid + 1;
      }
      tops[k] = j;
    }
    piles[k]!.push([piles[k - 1]!.length - 1, e]);
  }
  let k = piles.length - 1;
  let at = piles[k]!.length - 1;
  while (k > 0) {
    const [parent, e] = piles[k]![at]!;
    match[is[e]!] = js[e]!;
    at = parent;
    k -= 1;
  }
  return match;
}

/**
 * The tag of every input word (step 3). `backTokenize`, when given, replaces each lower-cased
 * input word by what the tokenizer gives back for it (encode, then decode without special
 * tokens), as the reference does with its tokenizer, so words the tokenizer changes (unknown
 * characters, NFKC) still match the model's copy of them.
 */
export function matchWords(
  inputWords: readonly string[],
  outputWords: readonly string[],
  tags: readonly string[],
  backTokenize?: (word: string) => string,
): string[] {
  let raw = inputWords.map((w) => w.toLowerCase());
  if (backTokenize !== undefined) raw = raw.map(backTokenize);
  const out = outputWords.map((w) => w.toLowerCase());
  if (raw.length === out.length && raw.every((w, i) => w === out[i])) return [...tags];
  const ordered = inOrder(raw, out);
  if (ordered !== undefined) return ordered.map((j) => (j === -1 ? 'O' : tags[j]!));
  return lcsMatch(raw, out).map((j) => (j === -1 ? 'O' : tags[j] || 'O'));
}

/** A span of input words, both ends inclusive. */
export interface WordSpanTag {
  start: number;
  end: number;
  label: string;
}

/** BIO tags to spans (step 4). */
export function bioSpans(tags: readonly string[]): WordSpanTag[] {
  const spans: WordSpanTag[] = [];
  let start = -1;
  let label = '';
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i]!;
    if (start >= 0 && (tag[0] === 'B' || tag[0] === 'O')) {
      spans.push({ start, end: i - 1, label });
      start = -1;
    }
    if (tag !== 'O') {
      if (start < 0) start = i;
      label = tag.slice(2);
    }
  }
  if (start >= 0) spans.push({ start, end: tags.length - 1, label });
  return spans;
}

/** Steps 1–4: the spans of `inputWords` that a model output names, labels limited to `labels`. */
export function parseGnerOutput(
  output: string,
  inputWords: readonly string[],
  labels: readonly string[],
  backTokenize?: (word: string) => string,
): { tags: string[]; spans: WordSpanTag[] } {
  const { words, tags } = extractTagged(output);
  const matched = matchWords(inputWords, words, keepKnownTags(tags, labels), backTokenize);
  return { tags: matched, spans: bioSpans(matched) };
}
