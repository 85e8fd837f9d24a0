/** Window relations → a text's relations: offsets, the both-ends-reported rule, dedupe across overlaps. */
import { describe, expect, it } from 'vitest';
import { textRelations, type WindowRelation } from '../../src/longtext/merge-relations.js';
import type { Entity } from '../../src/core/types.js';

// "Acme bought Beta in Paris" — words 0..4; two windows: words 0..4 and 2..4 (overlap on 2..4).
const text = 'Acme bought Beta in Paris';
const starts = Int32Array.from([0, 5, 12, 17, 20]);
const ends = Int32Array.from([4, 11, 16, 19, 25]);
const windows = [
  { start: 0, end: 5, ownStart: 0, ownEnd: 3 },
  { start: 2, end: 5, ownStart: 3, ownEnd: 5 },
];
const labels = ['org', 'city'];
const entities: Entity[] = [
  { start: 0, end: 4, text: 'Acme', label: 'org', score: 0.9 },
  { start: 12, end: 16, text: 'Beta', label: 'org', score: 0.9 },
  { start: 20, end: 25, text: 'Paris', label: 'city', score: 0.9 },
];
const span = (start: number, end: number, label: number) => ({ start, end, label, score: 0.9 });

describe('textRelations', () => {
  it('maps window words to field offsets, keeps the best score of a relation seen twice, and sorts by tail then head', () => {
    const perWindow: WindowRelation[][] = [
      [
        { head: span(0, 0, 0), tail: span(2, 2, 0), relation: 0, score: 0.7 },
        { head: span(2, 2, 0), tail: span(4, 4, 1), relation: 1, score: 0.6 },
      ],
      // The second window sees Beta -> Paris again (its words 0 and 2), with a higher score.
      [{ head: span(0, 0, 0), tail: span(2, 2, 1), relation: 1, score: 0.8 }],
    ];
    const out = textRelations(text, { starts, ends, windows }, perWindow, entities, labels, ['acquired', 'located in'], 'body');
    expect(out).toEqual([
      { head: { text: 'Acme', label: 'org', start: 0, end: 4 }, relation: 'acquired', tail: { text: 'Beta', label: 'org', start: 12, end: 16 }, score: 0.7, field: 'body' },
      { head: { text: 'Beta', label: 'org', start: 12, end: 16 }, relation: 'located in', tail: { text: 'Paris', label: 'city', start: 20, end: 25 }, score: 0.8, field: 'body' },
    ]);
  });

  it('drops a relation whose end is not an entity of the merged text (other span or other label)', () => {
    const perWindow: WindowRelation[][] = [
      [
        { head: span(0, 1, 0), tail: span(2, 2, 0), relation: 0, score: 0.9 }, // "Acme bought" is not an entity
        { head: span(0, 0, 1), tail: span(2, 2, 0), relation: 0, score: 0.9 }, // Acme as a city is not reported
      ],
      [],
    ];
    expect(textRelations(text, { starts, ends, windows }, perWindow, entities, labels, ['acquired'], 'body')).toEqual([]);
  });
});
