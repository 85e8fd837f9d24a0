import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PrecompiledCharsmap } from '../../src/gliner/normalizer.js';
import { WordTokenizer } from '../../src/gliner/tokenizer.js';

const dir = new URL('../fixtures/tokenizer/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(new URL('../fixtures/parity/tokenizer-golden.json', import.meta.url), 'utf8')) as {
  tokenizers_version: string;
  words: Array<[string, number[]]>;
};

describe('WordTokenizer (reference: Rust tokenizers, models/tokenizer_golden.py)', () => {
  const tok = WordTokenizer.fromFiles(`${dir}tokenizer.json`, `${dir}tokenizer_config.json`, 16);

  it('gives the reference ids for every golden word', () => {
    const wrong = golden.words.filter(([w, ids]) => Array.from(tok.encodeWord(w)).join(',') !== ids.join(','));
    expect(golden.words.length).toBeGreaterThan(5000);
    expect(wrong.map(([w, ids]) => `${JSON.stringify(w)} want ${ids} got ${Array.from(tok.encodeWord(w))}`)).toEqual([]);
  });

  it('keeps the cases a NFKC approximation gets wrong: BOM, NEL, newer compatibility characters', () => {
    const ids = (w: string) => Array.from(tok.encodeWord(w));
    expect(ids('\uFEFF')).toEqual([507]);
    expect(ids('\u0085')).toEqual([]);
    expect(ids('\uA7F1')).toEqual([507, 3]);
    expect(tok.clsId).toBe(1);
    expect(tok.sepId).toBe(2);
    expect(tok.padId).toBe(0);
  });

  it('reads the SentencePiece charsmap (full-width, ligature, fraction)', () => {
    const json = JSON.parse(readFileSync(`${dir}tokenizer.json`, 'utf8')) as { normalizer: { normalizers: Array<{ precompiled_charsmap?: string }> } };
    const map = new PrecompiledCharsmap(json.normalizer.normalizers.find((n) => n.precompiled_charsmap)!.precompiled_charsmap!);
    expect(map.normalize('５ﬁ½')).toBe('5fi1⁄2');
    expect(map.normalize('plain')).toBe('plain');
  });
});

describe('WordTokenizer, BERT family (reference: Rust tokenizers, models/tokenizer_golden.py --family bert)', () => {
  const bertDir = new URL('../../models/gliner-news-minilm-l6/', import.meta.url).pathname;
  const bertGolden = JSON.parse(readFileSync(new URL('../fixtures/parity/tokenizer-golden-bert.json', import.meta.url), 'utf8')) as {
    words: Array<[string, number[]]>;
  };
  const tok = WordTokenizer.fromFiles(`${bertDir}tokenizer.json`, `${bertDir}tokenizer_config.json`, 16);
  const ids = (w: string) => Array.from(tok.encodeWord(w));

  it('gives the reference ids for every golden word (code points, accents, punctuation, added tokens)', () => {
    const wrong = bertGolden.words.filter(([w, want]) => ids(w).join(',') !== want.join(','));
    expect(bertGolden.words.length).toBeGreaterThan(8000);
    expect(wrong.map(([w, want]) => `${JSON.stringify(w)} want ${want} got ${ids(w)}`)).toEqual([]);
  });

  it('follows the reference where JavaScript Unicode differs: U+061D stays inside a word, Σ lowercases without context', () => {
    // \p{P} (Unicode 14+) calls U+061D punctuation; the reference does not split on it.
    expect(ids('\u061Dx')).toEqual([100]);
    expect(ids('ΣΣ')).toEqual(ids('σσ'));
    expect(ids('Café')).toEqual(ids('cafe'));
  });

  it('matches added tokens in the raw word before normalizing, and uses the tokenizer special ids', () => {
    const ent = tok.tokenId('<<ENT>>')!;
    expect(ids('<<ENT>>')).toEqual([ent]);
    expect(ids('x<<ENT>>y')).toEqual([...ids('x'), ent, ...ids('y')]);
    expect(ids('<<ent>>')).not.toContain(ent);
    expect([tok.clsId, tok.sepId, tok.padId]).toEqual([101, 102, 0]);
    expect(ids('a'.repeat(101))).toEqual([100]);
  });
});
