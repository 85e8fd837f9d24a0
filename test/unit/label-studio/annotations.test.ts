import { describe, expect, it } from 'vitest';
import { chosenAnnotation, tasksToExamples, type LabelStudioTask } from '../../../src/label-studio/annotations.js';

/** A task with one annotation whose regions are [start, end, label] (end exclusive, UTF-16). */
function task(text: string, regions: Array<[number, number, string | string[]]>, id = 1): LabelStudioTask {
  return {
    id,
    data: { text },
    annotations: [
      {
        id: 10 + id,
        result: regions.map(([start, end, l], i) => ({
          id: `r${i}`,
          from_name: 'label',
          to_name: 'text',
          type: 'labels',
          value: { start, end, text: text.slice(start, end), labels: Array.isArray(l) ? l : [l] },
        })),
      },
    ],
  };
}

describe('tasksToExamples', () => {
  it('keeps a span at word 0 at word 0 and gives inclusive ends (the upstream example shifted one and excluded the other)', () => {
    const text = 'Merkel met Macron in Paris.';
    const { examples, skipped } = tasksToExamples([task(text, [[0, 6, 'PER'], [11, 17, 'PER'], [21, 26, 'LOC']])]);
    expect(skipped).toEqual([]);
    expect(examples).toEqual([{ id: 'label-studio-1', text, tokenized_text: ['Merkel', 'met', 'Macron', 'in', 'Paris', '.'], ner: [[0, 0, 'PER'], [2, 2, 'PER'], [4, 4, 'LOC']] }]);
  });

  it('converts the last word and multi-word spans, and maps label values', () => {
    const text = 'The talks were held by the European Central Bank';
    const { examples } = tasksToExamples([task(text, [[27, 48, 'ORG'], [0, 9, 'EVT']])], { labelMap: { ORG: 'organization' } });
    expect(examples[0]!.ner).toEqual([[0, 1, 'EVT'], [6, 8, 'organization']]);
    expect(examples[0]!.tokenized_text.at(-1)).toBe('Bank');
  });

  it('counts UTF-16 code units: spans after an emoji (a surrogate pair) land on the right words', () => {
    const text = '😀 Zoë Ångström visited Łódź';
    const start = text.indexOf('Zoë');
    const city = text.indexOf('Łódź');
    expect(start).toBe(3); // the emoji is two code units
    const { examples, skipped } = tasksToExamples([task(text, [[start, start + 'Zoë Ångström'.length, 'PER'], [city, city + 4, 'LOC']])]);
    expect(skipped).toEqual([]);
    expect(examples[0]).toMatchObject({ tokenized_text: ['😀', 'Zoë', 'Ångström', 'visited', 'Łódź'], ner: [[1, 2, 'PER'], [4, 4, 'LOC']] });
  });

  it('keeps overlapping spans, drops exact duplicates, and gives every label of a region', () => {
    const text = 'University of Helsinki researchers';
    const { examples } = tasksToExamples([task(text, [[0, 22, 'ORG'], [14, 22, 'LOC'], [0, 22, 'ORG'], [14, 22, ['LOC', 'GPE']]])]);
    expect(examples[0]!.ner).toEqual([[0, 2, 'ORG'], [2, 2, 'GPE'], [2, 2, 'LOC']]);
  });

  it('trims surrounding whitespace but reports, never shifts, spans off word boundaries', () => {
    const text = 'Apple shares fell in Cupertino, California.';
    const { examples, skipped } = tasksToExamples([
      task(text, [
        [0, 6, 'ORG'], // "Apple " -> trimmed to "Apple"
        [1, 5, 'ORG'], // "pple": starts inside a word
        [21, 28, 'LOC'], // "Cuperti": ends inside a word
        [5, 6, 'ORG'], // " ": only whitespace
        [30, 99, 'LOC'], // past the end
      ]),
    ]);
    expect(examples[0]!.ner).toEqual([[0, 0, 'ORG']]);
    expect(skipped.map((s) => [s.region, s.reason])).toEqual([
      ['r1', 'does not start at the start of a word'],
      ['r2', 'does not end at the end of a word'],
      ['r3', 'only whitespace'],
      ['r4', 'offsets [30, 99) are not a span of the 43-character text'],
    ]);
    expect(skipped[0]).toMatchObject({ task: 1, annotation: 11, text: 'pple' });
  });

  it('skips tasks without a live annotation and uses the latest of several', () => {
    const cancelled: LabelStudioTask = { id: 2, data: { text: 'Paris' }, annotations: [{ id: 1, was_cancelled: true, result: [] }] };
    const none: LabelStudioTask = { id: 3, data: { text: 'Paris' } };
    const two: LabelStudioTask = {
      id: 4,
      data: { text: 'Paris' },
      annotations: [
        { id: 1, updated_at: '2026-12-01T10:00:00Z', result: [{ type: 'labels', value: { start: 0, end: 5, labels: ['ORG'] } }] },
        { id: 2, updated_at: '2026-12-02T10:00:00Z', result: [{ type: 'labels', value: { start: 0, end: 5, labels: ['LOC'] } }] },
      ],
    };
    expect(chosenAnnotation(two)?.id).toBe(2);
    const r = tasksToExamples([cancelled, none, two]);
    expect(r.unannotated).toBe(2);
    expect(r.examples).toEqual([{ id: 'label-studio-4', text: 'Paris', tokenized_text: ['Paris'], ner: [[0, 0, 'LOC']] }]);
  });

  it('reads the configured text field and refuses a task without it', () => {
    const t: LabelStudioTask = { id: 5, data: { body: 'Rome' }, annotations: [{ result: [{ type: 'labels', value: { start: 0, end: 4, labels: ['LOC'] } }] }] };
    expect(tasksToExamples([t], { textField: 'body' }).examples[0]!.ner).toEqual([[0, 0, 'LOC']]);
    expect(() => tasksToExamples([t])).toThrow(expect.objectContaining({ code: 'MESSAGE_SCHEMA' }));
  });
});
