/**
 * Native relation models (gliner `UniEncoderSpanRelexGLiNER`) against the reference: golden
 * outputs of models/golden_relex.py on the tiny-span-relex fixture (relations_layer "none", the
 * gliner-relex v1.0 layout), made with the reference's PyTorch inference steps; the fixture's
 * ONNX file was checked there to equal that forward on every case. Entities and relations of
 * each case (all its texts in one batch, flat and nested) are compared with the entity parity's
 * tolerances: a difference is allowed only where fp32 drift across instruction sets can move a
 * decision (a score within SCORE_TOLERANCE of its threshold, or an entity end the entity
 * comparison already tolerated).
 *
 * The golden also records what the reference's own ONNX path returns on the same file: it reads
 * `rel_idx` as indices into the greedy-decoded entities, so its relations name the wrong entities
 * whenever flat NER drops a candidate. We follow the PyTorch path; the last test pins the difference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relation } from '../../src/core/relations.js';
import { GlinerEngine } from '../../src/inference/engine.js';
import { codePointToUtf16 } from '../../src/gliner/words.js';
import { FIXTURES, readJsonl, toUtf16, type GoldenEntity } from '../helpers/golden.js';
import { compareEntities, emptyReport, SCORE_TOLERANCE, toleratedWithinBudget } from '../helpers/parity-compare.js';

interface GoldenEnd {
  start: number;
  end: number;
  text: string;
  type: string;
}
interface GoldenRelation {
  head: GoldenEnd;
  tail: GoldenEnd;
  relation: string;
  score: number;
}
interface RelexGolden {
  id: string;
  texts: string[];
  entity_labels: string[];
  relations_asked: string[];
  relations: GoldenRelation[][];
  threshold: number;
  relation_threshold: number;
  flat_ner: boolean;
  graph_entity_threshold: number;
  entities: GoldenEntity[][];
  equals_inference: boolean | null;
  reference_onnx_relations: GoldenRelation[][];
  onnx_check: { rel_idx_equal: boolean; valid_pairs: number };
}

// RELEX_MODEL / RELEX_GOLDEN check another export the same way (e.g. the adjacency preset, see models/README.md).
const MODEL = process.env.RELEX_MODEL ?? `${FIXTURES}models/tiny-span-relex`;
const goldens = readJsonl<RelexGolden>(process.env.RELEX_GOLDEN ?? `${FIXTURES}parity/golden-relex-tiny-span.jsonl`);

/** A relation as a comparable key (UTF-16 offsets) and its score. */
interface Keyed {
  key: string;
  head: string;
  tail: string;
  score: number;
}
const endKey = (e: { start: number; end: number; label: string | null }): string => `${e.start}:${e.end}:${e.label}`;
const keyed = (head: Keyed['head'], relation: string, tail: Keyed['tail'], score: number): Keyed => ({ key: `${head}|${relation}|${tail}`, head, tail, score });

function goldenKeyed(text: string, rels: readonly GoldenRelation[]): Keyed[] {
  const cp = codePointToUtf16(text);
  return rels.map((r) =>
    keyed(endKey({ start: cp(r.head.start), end: cp(r.head.end), label: r.head.type }), r.relation, endKey({ start: cp(r.tail.start), end: cp(r.tail.end), label: r.tail.type }), r.score),
  );
}
const ourKeyed = (rels: readonly Relation[]): Keyed[] => rels.map((r) => keyed(endKey(r.head), r.relation, endKey(r.tail), r.score));

async function run(engine: GlinerEngine, g: RelexGolden) {
  return engine.extract({
    fields: g.texts.map((text, i) => ({ field: String(i), text })),
    labels: g.entity_labels,
    decode: { threshold: g.threshold, flatNer: g.flat_ner, multiLabel: false },
    relations: { names: g.relations_asked, threshold: g.relation_threshold },
  });
}

describe('native relation model parity (tiny-span-relex fp32)', { timeout: 300_000 }, () => {
  let engine: GlinerEngine;
  beforeAll(async () => {
    engine = await GlinerEngine.load(MODEL, { executionProvider: 'cpu', variant: 'fp32' });
  }, 120_000);
  afterAll(async () => engine?.close());

  it('loads as a relation model, and the golden exercises flat, nested, low thresholds and no relations', () => {
    expect(engine.model.relationsLayer).toEqual(process.env.RELEX_MODEL ? expect.any(String) : 'none');
    expect(goldens.map((g) => g.id)).toContain('nested');
    expect(goldens.some((g) => !g.flat_ner) && goldens.some((g) => g.flat_ner)).toBe(true);
    expect(goldens.some((g) => g.threshold < g.graph_entity_threshold)).toBe(true);
    expect(goldens.some((g) => g.relations_asked.length === 0)).toBe(true);
    expect(goldens.flatMap((g) => g.relations.flat()).length).toBeGreaterThanOrEqual(300);
    // The file equals the reference's PyTorch forward, and at or above the graph's threshold the
    // step-by-step reference equals its plain inference().
    for (const g of goldens) expect(g.onnx_check.rel_idx_equal, g.id).toBe(true);
    // (null where the reference's inference() would filter differently: below the graph's threshold,
    // or with an adjacency layer above it.)
    const checked = goldens.filter((x) => x.equals_inference !== null);
    expect(checked.length).toBeGreaterThanOrEqual(3);
    for (const g of checked) expect(g.equals_inference, g.id).toBe(true);
  });

  it('finds the reference entities and relations', async () => {
    const entityReport = emptyReport();
    const relationReport = emptyReport();
    let compared = 0;
    for (const g of goldens) {
      const fields = await run(engine, g);
      g.texts.forEach((text, i) => {
        const where = `${g.id}#${i}`;
        const field = fields[i]!;
        compareEntities(toUtf16(text, g.entities[i]!), field.entities, g.threshold, where, entityReport);
        const want = goldenKeyed(text, g.relations[i]!);
        const have = ourKeyed(field.relations ?? []);
        const ourEnds = new Set(field.entities.map((e) => endKey(e)));
        const wantEnds = new Set(toUtf16(text, g.entities[i]!).map((e) => endKey(e)));
        const haveByKey = new Map(have.map((r) => [r.key, r]));
        const wantByKey = new Map(want.map((r) => [r.key, r]));
        relationReport.reference += want.length;
        const nearThreshold = (r: Keyed): boolean => Math.abs(r.score - g.relation_threshold) <= SCORE_TOLERANCE;
        for (const w of want) {
          const h = haveByKey.get(w.key);
          if (h && Math.abs(h.score - w.score) <= SCORE_TOLERANCE) relationReport.matched++;
          else if (!h && (nearThreshold(w) || !ourEnds.has(w.head) || !ourEnds.has(w.tail))) relationReport.tolerated.push(`${where} missing ${w.key}`);
          else relationReport.mismatches.push(`${where} ${h ? `score ${h.score} vs ${w.score}` : 'missing'} ${w.key}`);
        }
        for (const h of have) {
          if (wantByKey.has(h.key)) continue;
          if (nearThreshold(h) || !wantEnds.has(h.head) || !wantEnds.has(h.tail)) relationReport.tolerated.push(`${where} extra ${h.key}`);
          else relationReport.mismatches.push(`${where} extra ${h.key} ${h.score}`);
        }
        compared += want.length;
      });
    }
    expect(entityReport.mismatches).toEqual([]);
    expect(toleratedWithinBudget(entityReport)).toBe(true);
    expect(relationReport.mismatches).toEqual([]);
    expect(toleratedWithinBudget(relationReport)).toBe(true);
    expect(compared).toBeGreaterThanOrEqual(300);
  });

  it("differs from the reference's ONNX path, which attaches relations to the wrong entities", async () => {
    const g = goldens.find((x) => x.id === 'acquisition-flat')!;
    const [field] = await run(engine, g);
    const text = g.texts[0]!;
    const ours = new Set(ourKeyed(field!.relations ?? []).map((r) => r.key));
    const viaOnnx = goldenKeyed(text, g.reference_onnx_relations[0]!);
    const viaTorch = goldenKeyed(text, g.relations[0]!);
    // The ONNX path reads candidate indices as decoded-entity indices: many of its relations join
    // entities the PyTorch path (and ours) never relates with that relation, and it misses others.
    const torchKeys = new Set(viaTorch.map((r) => r.key));
    const wrong = viaOnnx.filter((r) => !torchKeys.has(r.key));
    const onnxKeys = new Set(viaOnnx.map((r) => r.key));
    const missed = viaTorch.filter((r) => !onnxKeys.has(r.key));
    expect(viaTorch.length).toBeGreaterThan(50);
    expect(wrong.length).toBeGreaterThanOrEqual(10);
    expect(missed.length).toBeGreaterThanOrEqual(10);
    expect(wrong.filter((r) => ours.has(r.key))).toEqual([]);
    expect(viaTorch.filter((r) => ours.has(r.key)).length).toBe(viaTorch.length);
  });

  it('refuses relations on an entity-only model, and relation names with prompt tokens', async () => {
    const plain = await GlinerEngine.load(`${FIXTURES}models/tiny-span`, { executionProvider: 'cpu', variant: 'fp32' });
    try {
      const request = { fields: [{ field: 'body', text: 'Ada Lovelace was born in London.' }], labels: ['person'], decode: { threshold: 0.5, flatNer: true, multiLabel: false } };
      await expect(plain.extract({ ...request, relations: { names: ['born in'], threshold: 0.5 } })).rejects.toMatchObject({ code: 'OPTIONS_INVALID' });
      await expect(engine.extract({ ...request, relations: { names: ['born <<REL>> in'], threshold: 0.5 } })).rejects.toMatchObject({ code: 'LABELS_INVALID' });
      await expect(engine.extract({ ...request, relations: { names: ['born in'], threshold: 0.5 }, taskPrompt: 'x' })).rejects.toMatchObject({ code: 'OPTIONS_INVALID' });
      // No relations asked: entities only, no `relations` on the result.
      const [field] = await engine.extract(request);
      expect(field!.relations).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
