import { describe, expect, it } from 'vitest';
import { encodeBatch, type EncodedText } from '../../src/gliner/encode.js';
import { parseGlinerConfig } from '../../src/gliner/model-config.js';
import { buildPrompt } from '../../src/gliner/prompt.js';
import { WordTokenizer } from '../../src/gliner/tokenizer.js';
import { splitWords, wordAt } from '../../src/gliner/words.js';
import { isEnricherError } from '../../src/errors.js';

const dir = new URL('../fixtures/tokenizer/', import.meta.url).pathname;
const tokenizer = WordTokenizer.fromFiles(`${dir}tokenizer.json`, `${dir}tokenizer_config.json`);
const settings = parseGlinerConfig({ span_mode: 'markerV0', class_token_index: 128002 }, 'test');
const special = { clsId: tokenizer.clsId, sepId: tokenizer.sepId, padId: tokenizer.padId };

function encodeText(text: string): EncodedText {
  const w = splitWords(text);
  const pieces = Array.from({ length: w.count }, (_, i) => tokenizer.encodeWord(wordAt(w, i)));
  return { ids: Int32Array.from(pieces.flatMap((p) => Array.from(p))), counts: Int32Array.from(pieces.map((p) => p.length)) };
}
const num = (a: BigInt64Array) => Array.from(a, Number);

describe('encodeBatch', () => {
  it('reproduces the published golden vectors of gliner_small/medium-v2.1 (gline-rs tests)', () => {
    const prompt = buildPrompt(['movie character', 'vehicle'], tokenizer, settings, 128002);
    const f = encodeBatch([encodeText('My name is James Bond')], prompt.ids, special, 12);
    expect(num(f.inputIds)).toEqual([1, 128002, 1421, 1470, 128002, 1508, 128003, 573, 601, 269, 1749, 8728, 2]);
    expect(num(f.wordsMask)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0]);
    expect(num(f.textLengths)).toEqual([5]);
    expect(tokenizer.encodeWord('Auric')).toEqual(Int32Array.from([336, 49530]));
  });

  it('pads rows, counts only words with sub-tokens in words_mask, and builds span_idx/span_mask', () => {
    const prompt = buildPrompt(['person'], tokenizer, settings, 128002);
    // U+0001 is a word for the splitter but normalizes to nothing: no sub-tokens.
    const a = encodeText('a \u0001 b');
    const b = encodeText('Bond');
    expect(Array.from(a.counts)).toEqual([1, 0, 1]);
    const f = encodeBatch([a, b], prompt.ids, special, 2);
    const S = f.seqLen;
    const wm = num(f.wordsMask);
    expect(wm.slice(0, S)).toEqual([0, 0, 0, 0, 1, 2, 0]);
    expect(num(f.attentionMask).slice(S, 2 * S)).toEqual([1, 1, 1, 1, 1, 1, 0]);
    expect(num(f.inputIds).slice(S, 2 * S)).toEqual([1, 128002, prompt.ids[1], 128003, 8728, 2, 0]);
    expect(num(f.textLengths)).toEqual([3, 1]);
    expect(f.maxWords).toBe(3);
    // span_idx [B, W*K, 2]: row 0 enumerates (s, s+k) unclipped, mask s+k < n; row 1 pads with (0,0)/false.
    expect(num(f.spanIdx!).slice(0, 12)).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3]);
    expect(Array.from(f.spanMask!)).toEqual([1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0]);
    expect(num(f.spanIdx!).slice(12)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('rejects empty label lists and labels carrying prompt tokens', () => {
    for (const labels of [[], ['per<<ENT>>son'], ['a<<SEP>>'], ['  ']]) {
      let err: unknown;
      try {
        buildPrompt(labels, tokenizer, settings, 128002);
      } catch (e) {
        err = e;
      }
      expect(isEnricherError(err, 'LABELS_INVALID')).toBe(true);
    }
  });

  it('de-duplicates labels preserving order', () => {
    expect(buildPrompt(['b', 'a', 'b'], tokenizer, settings, 128002).labels).toEqual(['b', 'a']);
  });
});
