import { describe, expect, it } from 'vitest';
import { codePointToUtf16, sentenceEnds, splitWords, wordAt } from '../../src/gliner/words.js';

const words = (t: string) => {
  const w = splitWords(t);
  return Array.from({ length: w.count }, (_, i) => wordAt(w, i));
};

describe('splitWords (reference regex under Python Unicode rules)', () => {
  it('keeps accented words, CJK runs and compounds whole', () => {
    expect(words('Zürich, l’été à Salomón')).toEqual(['Zürich', ',', 'l', '’', 'été', 'à', 'Salomón']);
    expect(words('東京都に住んでいます。')).toEqual(['東京都に住んでいます', '。']);
    expect(words('co-op état_civil well--known')).toEqual(['co-op', 'état_civil', 'well', '-', '-', 'known']);
  });

  it('keeps surrogate pairs whole and reports UTF-16 offsets', () => {
    const t = '😀 Bill Gates👍🏽';
    const w = splitWords(t);
    expect(words(t)).toEqual(['😀', 'Bill', 'Gates', '👍', '🏽']);
    expect(Array.from(w.starts)).toEqual([0, 3, 8, 13, 15]);
    for (let i = 0; i < w.count; i++) expect(t.slice(w.starts[i], w.ends[i])).toBe(wordAt(w, i));
  });

  it('treats whitespace like Python: BOM is a word, U+0085 and U+001C are space, ZWSP is a word', () => {
    expect(words('\uFEFFa\u0085b\u001Cc')).toEqual(['\uFEFF', 'a', 'b', 'c']);
    expect(words('a\u200Bb')).toEqual(['a', '\u200B', 'b']);
    expect(splitWords(' \t\n\u00A0\u3000').count).toBe(0);
    expect(splitWords('').count).toBe(0);
  });

  it('maps Python code-point offsets to UTF-16', () => {
    const t = 'a😀b';
    const f = codePointToUtf16(t);
    expect([0, 1, 2, 3].map(f)).toEqual([0, 1, 3, 4]);
    expect(() => f(5)).toThrow(RangeError);
  });

  it('marks sentence ends at final punctuation and line breaks', () => {
    const w = splitWords('One two. Three\nFour? Five');
    expect(Array.from(sentenceEnds(w))).toEqual([0, 0, 1, 1, 0, 1, 0]);
  });
});
