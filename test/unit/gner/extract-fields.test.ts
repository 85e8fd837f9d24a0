import { describe, expect, it } from 'vitest';
import { extractFieldsGner, type GnerGenerator, type GnerSettings, type GnerStats } from '../../../src/gner/extract-fields.js';
import { GNER_INSTRUCTION } from '../../../src/gner/prompt.js';

/**
 * A model that answers like a trained GNER: every word back with a tag; words in `people` are
 * person, in `places` location. Counts tokens as characters / 4 (only budgets depend on it).
 */
function fakeGner(people: string[], places: string[], options: { capAt?: number } = {}): GnerGenerator & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    tokenCount: (t) => Math.ceil(t.length / 4) + 1,
    backTokenize: (w) => w,
    generate: async (prompts, maxNewTokens) => {
      calls.push([...prompts]);
      return prompts.map((p) => {
        expect(p.startsWith(GNER_INSTRUCTION)).toBe(true);
        const words = p.slice(p.indexOf('Sentence: ') + 'Sentence: '.length).split(' ');
        let prev = 'O';
        const tagged = words.map((w) => {
          const type = people.includes(w) ? 'person' : places.includes(w) ? 'location' : undefined;
          const tag = type === undefined ? 'O' : prev.endsWith(type) ? `I-${type}` : `B-${type}`;
          prev = tag;
          return `${w}(${tag})`;
        });
        const cut = options.capAt !== undefined ? tagged.slice(0, options.capAt) : tagged;
        expect(maxNewTokens).toBeGreaterThan(0);
        return { text: cut.join(' '), ids: [0, ...cut.map(() => 5), ...(options.capAt === undefined ? [1] : [])], finished: options.capAt === undefined };
      });
    },
  };
}

const SETTINGS: GnerSettings = { batchSize: 2, maxSourceTokens: 640, maxNewTokens: 640, groupWords: 0 };
const decode = { threshold: 0.5, flatNer: true, multiLabel: false };
const newStats = (): GnerStats => ({ prompts: 0, batches: 0, generatedTokens: 0, capped: 0 });

describe('extractFieldsGner', () => {
  it('maps tagged words back to UTF-16 offsets of each field, one prompt per sentence, in batches', async () => {
    const model = fakeGner(['Angela', 'Merkel', 'Zoë'], ['Paris', 'Berlin']);
    const body = 'Angela Merkel 👋 visited Paris. Then Berlin!\nZoë stayed.';
    const stats = newStats();
    const [title, text] = await extractFieldsGner(model, { fields: [{ field: 'title', text: 'Merkel in Paris' }, { field: 'body', text: body }], labels: ['person', 'location'], decode }, SETTINGS, stats);
    expect(title!.entities.map((e) => [e.text, e.label])).toEqual([
      ['Merkel', 'person'],
      ['Paris', 'location'],
    ]);
    expect(text!.entities.map((e) => [e.text, e.label, body.slice(e.start, e.end)])).toEqual([
      ['Angela Merkel', 'person', 'Angela Merkel'],
      ['Paris', 'location', 'Paris'],
      ['Berlin', 'location', 'Berlin'],
      ['Zoë', 'person', 'Zoë'],
    ]);
    expect(text!.entities.every((e) => e.score === 1)).toBe(true);
    expect(text!.windows).toBe(3); // three sentences
    expect(title!.windows).toBe(1);
    expect(stats).toMatchObject({ prompts: 4, batches: 2, capped: 0 });
    expect(model.calls.map((c) => c.length)).toEqual([2, 2]);
  });

  it('counts prompts cut at the token cap, whose unread words are O', async () => {
    const model = fakeGner(['Angela', 'Merkel'], ['Paris'], { capAt: 2 });
    const stats = newStats();
    const [f] = await extractFieldsGner(model, { fields: [{ field: 'body', text: 'Angela Merkel visited Paris .' }], labels: ['person', 'location'], decode }, SETTINGS, stats);
    expect(f!.entities.map((e) => e.text)).toEqual(['Angela Merkel']);
    expect(stats.capped).toBe(1);
  });

  it('returns empty results for empty fields without calling the model', async () => {
    const model = fakeGner([], []);
    const [f] = await extractFieldsGner(model, { fields: [{ field: 'body', text: '  \n ' }], labels: ['person'], decode }, SETTINGS, newStats());
    expect(f).toEqual({ field: 'body', entities: [], windows: 0, words: 0 });
    expect(model.calls).toEqual([]);
  });

  it('refuses relations, task prompts and labels the output format cannot carry', async () => {
    const model = fakeGner([], []);
    const fields = [{ field: 'body', text: 'x' }];
    await expect(extractFieldsGner(model, { fields, labels: ['person'], decode, relations: { names: ['works for'], threshold: 0.5 } }, SETTINGS, newStats())).rejects.toMatchObject({ code: 'OPTIONS_INVALID' });
    await expect(extractFieldsGner(model, { fields, labels: ['person'], decode, taskPrompt: 'Extract' }, SETTINGS, newStats())).rejects.toMatchObject({ code: 'OPTIONS_INVALID' });
    for (const labels of [[], ['per(son)'], ['a, b'], ['O'], ['  ']]) {
      await expect(extractFieldsGner(model, { fields, labels, decode }, SETTINGS, newStats())).rejects.toMatchObject({ code: 'LABELS_INVALID' });
    }
  });

  it('refuses a label list whose prompt leaves no room for a sentence', async () => {
    const model = fakeGner([], []);
    const labels = Array.from({ length: 200 }, (_, i) => `label number ${i}`);
    await expect(extractFieldsGner(model, { fields: [{ field: 'body', text: 'x' }], labels, decode }, SETTINGS, newStats())).rejects.toMatchObject({ code: 'LABELS_INVALID' });
  });
});
