/**
 * The tokenizer.json normalizers, with the semantics of the Rust `tokenizers` library
 * that the reference runs. @huggingface/tokenizers approximates `Precompiled` with
 * `String.normalize('NFKC')` and strips with JavaScript's `trim()`; on the DeBERTa-v3
 * tokenizer that changes the ids of 139 code points (the BOM, U+0085, characters whose
 * NFKC mapping changed after the SentencePiece charsmap was built). This module
 * interprets SentencePiece's precompiled charsmap itself, so ids match the reference.
 */

export type NormalizeFn = (text: string) => string;

/** Rust `char::is_whitespace` (Unicode White_Space): what `Strip` removes. Not U+FEFF, not U+200B. */
const RUST_WS = '\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const STRIP_LEFT = new RegExp(`^[${RUST_WS}]+`, 'u');
const STRIP_RIGHT = new RegExp(`[${RUST_WS}]+$`, 'u');

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8');
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * SentencePiece's precompiled charsmap: [u32 trie size][double-array trie][NUL-separated
 * replacement strings]. Lookups walk the trie over UTF-8 bytes (darts-clone layout).
 */
export class PrecompiledCharsmap {
  private readonly trie: Uint32Array;
  private readonly normalized: Uint8Array;
  private readonly cache = new Map<string, string | null>();

  constructor(base64: string) {
    const blob = Buffer.from(base64, 'base64');
    const trieBytes = blob.readUInt32LE(0);
    this.trie = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.trie.length; i++) this.trie[i] = blob.readUInt32LE(4 + 4 * i);
    this.normalized = new Uint8Array(blob.subarray(4 + trieBytes));
  }

  /** Replacement for the shortest key that prefixes `chunk`, as spm_precompiled's `transform`. */
  transform(chunk: string): string | undefined {
    const hit = this.cache.get(chunk);
    if (hit !== undefined) return hit ?? undefined;
    const found = this.lookup(utf8.encode(chunk));
    if (this.cache.size > 65536) this.cache.clear();
    this.cache.set(chunk, found ?? null);
    return found;
  }

  private lookup(key: Uint8Array): string | undefined {
    const a = this.trie;
    const offset = (u: number) => (u >>> 10) << ((u & (1 << 9)) >>> 6);
    let pos = offset(a[0]!);
    for (const c of key) {
      if (c === 0) break;
      pos ^= c;
      const unit = a[pos]!;
      if ((unit & (0x80000000 | 0xff)) >>> 0 !== c) return undefined;
      pos ^= offset(unit);
      if ((unit >>> 8) & 1) return this.at(a[pos]! & 0x7fffffff);
    }
    return undefined;
  }

  private at(index: number): string {
    let end = index;
    while (end < this.normalized.length && this.normalized[end] !== 0) end++;
    return fromUtf8.decode(this.normalized.subarray(index, end));
  }

  /**
   * The `tokenizers` Precompiled normalizer: each grapheme shorter than 6 UTF-8 bytes is
   * replaced whole when a key prefixes it; otherwise its characters are replaced one by one.
   */
  normalize(text: string): string {
    let out = '';
    for (const { segment } of graphemes.segment(text)) {
      if (utf8Length(segment) < 6) {
        const whole = this.transform(segment);
        if (whole !== undefined) {
          out += whole;
          continue;
        }
      }
      for (const ch of segment) out += this.transform(ch) ?? ch;
    }
    return out;
  }
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

interface NormalizerConfig {
  type: string;
  [k: string]: unknown;
}

/**
 * Builds the normalizer of a tokenizer.json, or undefined when it uses a type not
 * implemented here (the caller then keeps the library's own normalizer).
 */
export function buildNormalizer(config: NormalizerConfig | null | undefined): NormalizeFn | undefined {
  if (config === null || config === undefined) return (t) => t;
  switch (config.type) {
    case 'Sequence': {
      const parts = (config.normalizers as NormalizerConfig[]).map(buildNormalizer);
      if (parts.some((p) => p === undefined)) return undefined;
      return (t) => (parts as NormalizeFn[]).reduce((acc, f) => f(acc), t);
    }
    case 'Strip': {
      const left = config.strip_left !== false;
      const right = config.strip_right !== false;
      return (t) => {
        let s = left ? t.replace(STRIP_LEFT, '') : t;
        if (right) s = s.replace(STRIP_RIGHT, '');
        return s;
      };
    }
    case 'Precompiled': {
      const map = typeof config.precompiled_charsmap === 'string' ? new PrecompiledCharsmap(config.precompiled_charsmap) : undefined;
      return map ? (t) => map.normalize(t) : (t) => t;
    }
    case 'Replace': {
      const pattern = config.pattern as { String?: string; Regex?: string };
      const content = String(config.content ?? '');
      if (pattern.String !== undefined) return (t) => t.split(pattern.String!).join(content);
      if (pattern.Regex !== undefined) {
        const re = new RegExp(pattern.Regex, 'gu');
        return (t) => t.replace(re, content);
      }
      return undefined;
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = config.type;
      return (t) => t.normalize(form);
    }
    case 'Lowercase':
      return (t) => t.toLowerCase();
    default:
      return undefined;
  }
}
