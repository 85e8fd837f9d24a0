/** Relation labels, their parsing, and the pass-2 orchestration (chunks, label passes, dedupe) on a fake extractor. */
import { describe, expect, it } from 'vitest';
import type { EntityExtractor, ExtractionRequest, FieldEntities } from '../../src/core/extraction.js';
import type { Entity } from '../../src/core/types.js';
import { EnricherError } from '../../src/errors.js';
import { parseRelationLabel, relationLabels, relationNameProblem, RELATION_TASK_PROMPT } from '../../src/relations/multitask.js';
import { RelationExtractor, relationChunks } from '../../src/relations/relation-extractor.js';

const entity = (text: string, whole: string, label: string, from = 0): Entity => {
  const start = whole.indexOf(text, from);
  if (start < 0) throw new Error(`${text} not in text`);
  return { start, end: start + text.length, text, label, score: 0.9 };
};

/** Answers pass 2 by a rule on the labels it is asked: each (head <> relation) finds `tailText`. */
class FakeExtractor implements EntityExtractor {
  readonly requests: ExtractionRequest[] = [];
  readonly model = { name: 'fake', sha256: '0', file: 'x.onnx', spanMode: 'span' as const, maxLen: 384, maxWidth: 12, executionProvider: 'cpu' };
  constructor(
    private readonly answer: (text: string, label: string) => Array<{ text: string; score: number }>,
    private readonly maxLabels = Infinity,
  ) {}
  async extract(request: ExtractionRequest): Promise<FieldEntities[]> {
    this.requests.push(request);
    if (request.labels.length > this.maxLabels) throw new EnricherError('LABELS_INVALID', 'prompt too long');
    return request.fields.map(({ field, text }) => {
      const entities: Entity[] = [];
      for (const label of request.labels) {
        for (const a of this.answer(text, label)) {
          const start = text.indexOf(a.text);
          if (start >= 0) entities.push({ start, end: start + a.text.length, text: a.text, label, score: a.score });
        }
      }
      return { field, entities, windows: 1, words: 0 };
    });
  }
  async close(): Promise<void> {}
}

describe('relation labels', () => {
  it('are relation-major over distinct entity texts in first-seen order', () => {
    expect(relationLabels(['Microsoft', 'Activision', 'Microsoft'], ['acquired', 'based in'])).toEqual([
      'Microsoft <> acquired',
      'Activision <> acquired',
      'Microsoft <> based in',
      'Activision <> based in',
    ]);
    expect(relationLabels([], ['acquired'])).toEqual([]);
  });

  it('parse back at the last separator, trimmed', () => {
    expect(parseRelationLabel('Microsoft <> acquired')).toEqual({ head: 'Microsoft', relation: 'acquired' });
    expect(parseRelationLabel('A <> B Corp <> owns')).toEqual({ head: 'A <> B Corp', relation: 'owns' });
    expect(() => parseRelationLabel('no separator')).toThrow();
  });

  it('refuses relation names the labels cannot carry', () => {
    expect(relationNameProblem('acquired')).toBeUndefined();
    expect(relationNameProblem(' ')).toMatch(/blank/);
    expect(relationNameProblem('a <> b')).toMatch(/separates/);
  });
});

describe('RelationExtractor', () => {
  const text = 'Microsoft acquired Activision Blizzard. Satya Nadella leads Microsoft.';
  const entities = [
    entity('Microsoft', text, 'organization'),
    entity('Activision Blizzard', text, 'organization'),
    entity('Satya Nadella', text, 'person'),
    entity('Microsoft', text, 'organization', 50),
  ];

  it('asks the task prompt with one label per (entity text, relation) and maps tails back', async () => {
    const fake = new FakeExtractor((_t, label) =>
      label === 'Microsoft <> acquired' ? [{ text: 'Activision Blizzard', score: 0.8 }] : label === 'Satya Nadella <> leads' ? [{ text: 'Microsoft.', score: 0.7 }] : [],
    );
    const rex = new RelationExtractor(fake, { relations: ['acquired', 'leads'], threshold: 0.4, labelsPerPass: 100, chunkWords: 376, overlapWords: 32 });
    const rels = await rex.extract({ field: 'body', text }, entities);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.taskPrompt).toBe(RELATION_TASK_PROMPT);
    expect(fake.requests[0]!.labels).toHaveLength(6);
    expect(fake.requests[0]!.fields[0]!.text).toBe(text);
    expect(rels).toEqual([
      {
        head: { text: 'Microsoft', label: 'organization', start: 0, end: 9 },
        relation: 'acquired',
        tail: { text: 'Activision Blizzard', label: 'organization', start: 19, end: 38 },
        score: 0.8,
        field: 'body',
      },
      // The tail span is not a pass-1 entity (it has the full stop): no label.
      { head: { text: 'Satya Nadella', label: 'person', start: 40, end: 53 }, relation: 'leads', tail: { text: 'Microsoft.', label: null, start: 60, end: 70 }, score: 0.7, field: 'body' },
    ]);
  });

  it('costs nothing without relations or entities', async () => {
    const fake = new FakeExtractor(() => []);
    expect(await new RelationExtractor(fake, { relations: [], threshold: 0.5, labelsPerPass: 10, chunkWords: 376, overlapWords: 32 }).extract({ field: 'b', text }, entities)).toEqual([]);
    expect(await new RelationExtractor(fake, { relations: ['x'], threshold: 0.5, labelsPerPass: 10, chunkWords: 376, overlapWords: 32 }).extract({ field: 'b', text }, [])).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it('splits labels into passes of labelsPerPass, and halves a pass the encoder budget refuses', async () => {
    const fake = new FakeExtractor(() => [], 2);
    const rex = new RelationExtractor(fake, { relations: ['a', 'b'], threshold: 0.5, labelsPerPass: 4, chunkWords: 376, overlapWords: 32 });
    await rex.extract({ field: 'b', text }, entities);
    // 6 labels: passes of 4 and 2; the pass of 4 is refused and asked as 2 + 2.
    const sizes = fake.requests.map((r) => r.labels.length);
    expect(sizes.filter((n) => n <= 2)).toHaveLength(3);
    expect(sizes).toContain(4);
    expect(new Set(fake.requests.flatMap((r) => r.labels)).size).toBe(6);
  });

  it('leaves out a single label the encoder cannot take, and entity texts that cannot be labels', async () => {
    const fake = new FakeExtractor(() => [], 0);
    const rex = new RelationExtractor(fake, { relations: ['a'], threshold: 0.5, labelsPerPass: 4, chunkWords: 376, overlapWords: 32 });
    expect(await rex.extract({ field: 'b', text }, entities)).toEqual([]);
    const odd = 'Acme <<ENT>> met Beta.';
    const fake2 = new FakeExtractor(() => []);
    await new RelationExtractor(fake2, { relations: ['met'], threshold: 0.5, labelsPerPass: 4, chunkWords: 376, overlapWords: 32 }).extract({ field: 'b', text: odd }, [
      entity('Acme <<ENT>>', odd, 'organization'),
      entity('Beta', odd, 'organization'),
    ]);
    expect(fake2.requests.flatMap((r) => r.labels)).toEqual(['Beta <> met']);
  });

  it('never makes the tail its own head, and aborts the other passes when one fails', async () => {
    const t = 'Acme sued Acme.';
    const ents = [entity('Acme', t, 'organization'), entity('Acme', t, 'organization', 5)];
    // The model names the second Acme as the tail of "Acme <> sued": the head is the first.
    const fake = new FakeExtractor((_x, label) => (label === 'Acme <> sued' ? [{ text: 'Acme.', score: 0.9 }] : []));
    const rels = await new RelationExtractor(fake, { relations: ['sued'], threshold: 0.5, labelsPerPass: 4, chunkWords: 376, overlapWords: 32 }).extract({ field: 'b', text: t }, ents);
    // The nearest mention with the head's text would be the tail itself (gap 0): the other one is taken.
    expect(rels.map((r) => [r.head.start, r.tail.start, r.tail.text])).toEqual([[0, 10, 'Acme.']]);
    const seen: AbortSignal[] = [];
    const failing: EntityExtractor = {
      model: fake.model,
      extract: async (req, signal) => {
        seen.push(signal!);
        if (req.labels[0] === 'Microsoft <> a') throw new EnricherError('INFERENCE_FAILED', 'boom');
        await new Promise((r) => setTimeout(r, 20));
        return [{ field: 'b', entities: [], windows: 1, words: 0 }];
      },
      close: async () => undefined,
    };
    const rex = new RelationExtractor(failing, { relations: ['a'], threshold: 0.5, labelsPerPass: 1, chunkWords: 376, overlapWords: 32 });
    await expect(rex.extract({ field: 'b', text }, entities)).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((s) => s.aborted)).toBe(true);
  });

  it('reads long texts in overlapping chunks with their own entities, deduplicating relations seen twice', async () => {
    // 60 sentences of 5 words; "Acme bought Beta." sits at words 100-103, inside two chunks' overlap.
    const sentences = Array.from({ length: 60 }, (_, i) => (i === 20 ? 'Acme bought Beta today .' : `Filler sentence number ${i} .`));
    const long = sentences.join(' ');
    const ents = [entity('Acme', long, 'organization'), entity('Beta', long, 'organization')];
    const chunks = relationChunks(long, ents, 120, 32);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.filter((c) => c.entities.length === 2).length).toBe(2);
    const fake = new FakeExtractor((chunkText, label) => (label === 'Acme <> acquired' && chunkText.includes('Beta') ? [{ text: 'Beta', score: 0.6 }] : []));
    const rex = new RelationExtractor(fake, { relations: ['acquired'], threshold: 0.5, labelsPerPass: 10, chunkWords: 120, overlapWords: 32 });
    const rels = await rex.extract({ field: 'body', text: long }, ents);
    // Only chunks with entities are asked, each with its own entities' labels.
    expect(fake.requests).toHaveLength(2);
    expect(rels).toHaveLength(1);
    expect(long.slice(rels[0]!.tail.start, rels[0]!.tail.end)).toBe('Beta');
    expect(rels[0]!.head.start).toBe(ents[0]!.start);
  });
});

describe('relation settings and message fields', () => {
  it('refuses a relation name with the separator at start-up, and in a message', async () => {
    const { loadConfig } = await import('../../src/config-load.js');
    const { parseArticle } = await import('../../src/article.js');
    expect(loadConfig({ env: { RELATIONS: 'acquired, leads' } }).inference.relations).toEqual(['acquired', 'leads']);
    expect(() => loadConfig({ env: { RELATIONS: 'acquired,x <> y' } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(parseArticle({ id: 'a', body: 'b', relations: ['acquired'] }, undefined).relations).toEqual(['acquired']);
    expect(() => parseArticle({ id: 'a', body: 'b', relations: ['x <> y'] }, undefined)).toThrow(expect.objectContaining({ code: 'MESSAGE_SCHEMA' }));
    expect(() => parseArticle({ id: 'a', body: 'b', relations: ['a', 'b', 'c'] }, undefined, { maxBodyBytes: 100, maxLabels: 2 })).toThrow(expect.objectContaining({ code: 'MESSAGE_SCHEMA' }));
  });
});
