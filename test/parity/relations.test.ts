/**
 * The multitask relation path against the reference `GLiNERRelationExtractor` (golden outputs
 * from models/golden_relations.py on the tiny-span fixture, fp32): pass 1's entities, pass 2's
 * labels (same order), and the relations, compared with the tolerances of the entity parity
 * (fp32 scores drift by ~1e-6 across instruction sets). Pass 2 is fed the reference's own pass-1
 * entities, so a pass-1 tie cannot change the labels pass 2 is compared on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlinerEngine } from '../../src/inference/engine.js';
import { codePointToUtf16 } from '../../src/gliner/words.js';
import { RelationExtractor, RELATION_PROMPT_WORDS } from '../../src/relations/relation-extractor.js';
import { RELATION_PROMPT_SEPARATOR, RELATION_TASK_PROMPT, relationLabels } from '../../src/relations/multitask.js';
import { FIXTURES, readJsonl, toUtf16, type GoldenEntity } from '../helpers/golden.js';
import { compareEntities, emptyReport, toleratedWithinBudget, type Ent } from '../helpers/parity-compare.js';

interface RelationGolden {
  id: string;
  texts: string[];
  entity_labels: string[];
  relations_asked: string[];
  ner_threshold: number;
  rel_threshold: number;
  max_len: number;
  entities: GoldenEntity[][];
  relation_labels: string[][];
  relations: Array<Array<{ source: string; relation: string; target: string; score: number; start: number; end: number }>>;
}

const goldens = readJsonl<RelationGolden>(`${FIXTURES}parity/golden-relations-tiny-span.jsonl`);

describe('relations parity (multitask prompt, tiny-span fp32)', { timeout: 300_000 }, () => {
  let engine: GlinerEngine;
  beforeAll(async () => {
    engine = await GlinerEngine.load(`${FIXTURES}models/tiny-span`, { executionProvider: 'cpu', variant: 'fp32', batchMaxItems: 1 });
  }, 120_000);
  afterAll(async () => engine?.close());

  it('the golden exercises relations, spans inside the prompt and an empty text', () => {
    const all = goldens.flatMap((g) => g.relations.flat());
    expect(all.length).toBeGreaterThanOrEqual(20);
    expect(all.some((r) => r.start < 0)).toBe(true);
    expect(all.some((r) => r.start >= 0)).toBe(true);
    expect(goldens.some((g) => g.texts.includes(''))).toBe(true);
    // The prompt words: "Extract relationships between entities from the text :"
    expect(RELATION_PROMPT_WORDS).toBe(8);
  });

  it('pass 1 finds the reference entities', async () => {
    const report = emptyReport();
    for (const g of goldens) {
      const results = await engine.predict(g.texts, { labels: g.entity_labels, threshold: g.ner_threshold, flatNer: true, multiLabel: false });
      g.texts.forEach((t, i) => compareEntities(toUtf16(t, g.entities[i]!), results[i]!.entities, g.ner_threshold, `${g.id}#${i}`, report));
    }
    expect(report.mismatches).toEqual([]);
    expect(toleratedWithinBudget(report)).toBe(true);
  });

  it('pass 2 asks the reference labels and finds the reference relations (tails in the text)', async () => {
    const report = emptyReport();
    let compared = 0;
    for (const g of goldens) {
      const rex = new RelationExtractor(engine, { relations: g.relations_asked, threshold: g.rel_threshold, labelsPerPass: 10_000, chunkWords: g.max_len - RELATION_PROMPT_WORDS, overlapWords: 32 });
      for (const [i, text] of g.texts.entries()) {
        const entities = toUtf16(text, g.entities[i]!);
        expect(relationLabels(entities.map((e) => e.text), g.relations_asked)).toEqual(g.relation_labels[i]);
        const ours = await rex.extract({ field: 'body', text }, entities);
        // The reference's offsets are code points of prompt + separator + text, shifted back by
        // the prompt's length; tails starting inside the prompt (negative) are what we drop.
        const cp = codePointToUtf16(text);
        const want: Ent[] = g.relations[i]!.filter((r) => r.start >= 0).map((r) => ({
          start: cp(r.start),
          end: cp(r.end),
          text: r.target,
          label: `${r.source} <> ${r.relation}`,
          score: r.score,
        }));
        const have: Ent[] = ours.map((r) => ({ start: r.tail.start, end: r.tail.end, text: r.tail.text, label: `${r.head.text} <> ${r.relation}`, score: r.score }));
        compareEntities(want, have, g.rel_threshold, `${g.id}#${i}`, report);
        compared += want.length;
        for (const r of ours) {
          expect(text.slice(r.tail.start, r.tail.end)).toBe(r.tail.text);
          expect(text.slice(r.head.start, r.head.end)).toBe(r.head.text);
        }
      }
    }
    expect(compared).toBeGreaterThanOrEqual(10);
    expect(report.mismatches).toEqual([]);
    expect(toleratedWithinBudget(report)).toBe(true);
  });

  it('the prompt is the reference text, with the separator adding no word', () => {
    expect(RELATION_TASK_PROMPT + RELATION_PROMPT_SEPARATOR).toBe('Extract relationships between entities from the text:  \n ');
  });
});
