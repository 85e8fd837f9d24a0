import { describe, expect, it } from 'vitest';
import { mergeAdjacent, toEntities } from '../../src/gliner/postprocess.js';
import { splitWords } from '../../src/gliner/words.js';

describe('toEntities', () => {
  it('maps word spans to UTF-16 offsets whose slice is the entity text', () => {
    const text = '😀 Bill Gates met Zürich officials';
    const w = splitWords(text);
    const ents = toEntities(text, w.starts, w.ends, [{ start: 1, end: 2, label: 0, score: 0.9 }, { start: 4, end: 4, label: 1, score: 0.8 }], ['person', 'city']);
    expect(ents).toEqual([
      { start: 3, end: 13, text: 'Bill Gates', label: 'person', score: 0.9 },
      { start: 18, end: 24, text: 'Zürich', label: 'city', score: 0.8 },
    ]);
  });
});

describe('mergeAdjacent (NuNER Zero model card rule)', () => {
  const text = 'New York City Council met Acme Corp. yesterday';
  const e = (start: number, end: number, label: string, score: number) => ({ start, end, text: text.slice(start, end), label, score });

  it('merges same-label entities that touch or are one character apart, keeping the first score', () => {
    const merged = mergeAdjacent(text, [e(0, 8, 'organization', 0.9), e(9, 13, 'organization', 0.7), e(14, 21, 'organization', 0.6), e(26, 30, 'organization', 0.8), e(31, 36, 'organization', 0.5)]);
    expect(merged).toEqual([e(0, 21, 'organization', 0.9), e(26, 36, 'organization', 0.8)]);
  });

  it('keeps entities of different labels or further apart separate, and does not mutate its input', () => {
    const input = [e(0, 8, 'location', 0.9), e(9, 13, 'organization', 0.7), e(26, 30, 'organization', 0.8)];
    const copy = structuredClone(input);
    expect(mergeAdjacent(text, input)).toEqual(input);
    expect(input).toEqual(copy);
  });
});
