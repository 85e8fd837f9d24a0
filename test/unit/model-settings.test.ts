/** Model-dependent settings are checked once, against the model's config and tokenizer. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config-load.js';
import { isEnricherError } from '../../src/errors.js';
import { loadModelText } from '../../src/gliner/model-text.js';
import { checkModelSettings, preflightModel } from '../../src/inference/model-settings.js';

const FIXTURES = new URL('../fixtures/models/', import.meta.url).pathname;
const SPAN = `${FIXTURES}tiny-span`; // max_len 384, max_width 12, 512 encoder positions
const span = loadModelText(SPAN);

function check(env: Record<string, string>) {
  return checkModelSettings(span, loadConfig({ env }).inference, SPAN);
}

function problem(env: Record<string, string>): string {
  try {
    check(env);
  } catch (err) {
    if (isEnricherError(err, 'CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error(`expected CONFIG_INVALID for ${JSON.stringify(env)}`);
}

describe('checkModelSettings', () => {
  it('accepts the defaults and reports what they resolve to', () => {
    expect(check({})).toMatchObject({ maxWords: 384, overlapWords: 32, windowMaxTokens: 512 });
    const r = check({ WINDOW_WORDS: '200', WINDOW_OVERLAP_WORDS: '22', WINDOW_MAX_TOKENS: '256' });
    expect(r).toMatchObject({ maxWords: 200, overlapWords: 22, windowMaxTokens: 256 });
    expect(r.maxTextTokens).toBe(256 - 2 - r.promptTokens);
  });

  it('refuses an overlap below 2·(max_width − 1), saying which range fits (issue 9: WINDOW_OVERLAP_WORDS=10)', () => {
    const m = problem({ WINDOW_OVERLAP_WORDS: '10' });
    expect(m).toContain('WINDOW_OVERLAP_WORDS');
    expect(m).toContain('22..191');
  });

  it('refuses an overlap of half the window or more', () => {
    expect(problem({ WINDOW_WORDS: '100', WINDOW_OVERLAP_WORDS: '50' })).toMatch(/WINDOW_OVERLAP_WORDS.*is 50.*22\.\.49/);
  });

  it('refuses windows above max_len (issue 9: WINDOW_WORDS=1000)', () => {
    expect(problem({ WINDOW_WORDS: '1000' })).toMatch(/WINDOW_WORDS.*1000.*max_len of 384/);
  });

  it('says how large windows must be when no overlap fits (extract --window-words 8 --window-overlap-words 3)', () => {
    expect(problem({ WINDOW_WORDS: '8', WINDOW_OVERLAP_WORDS: '3' })).toMatch(/windows of 8 words.*at least 45 words/);
    expect(check({ WINDOW_WORDS: '45', WINDOW_OVERLAP_WORDS: '22' })).toMatchObject({ maxWords: 45, overlapWords: 22 });
  });

  it('refuses a sub-token budget above the encoder', () => {
    expect(problem({ WINDOW_MAX_TOKENS: '1024' })).toMatch(/WINDOW_MAX_TOKENS.*1024.*512 positions/);
  });

  it('refuses configured labels the prompt cannot carry, and labels that leave no room for text', () => {
    expect(problem({ LABELS: 'person,x<<ENT>>y' })).toMatch(/LABELS .*contains the prompt token <<ENT>>/);
    const many = Array.from({ length: 120 }, (_, i) => `label number ${i}`).join(',');
    expect(problem({ LABELS: many })).toMatch(/120 labels of LABELS.*fewer or shorter labels/);
    // A smaller budget: the advice names the budget setting too.
    expect(problem({ LABELS: Array.from({ length: 12 }, (_, i) => `kind ${i}`).join(','), WINDOW_MAX_TOKENS: '64' })).toMatch(/raise WINDOW_MAX_TOKENS/);
  });

  it('refuses relation names the relation pass cannot ask, before any message', () => {
    expect(check({ RELATIONS: 'acquired,chief executive of' }).maxWords).toBe(384);
    expect(problem({ RELATIONS: 'acquired,x<<SEP>>' })).toMatch(/RELATIONS .*"x<<SEP>>".*contains the prompt token <<SEP>>/);
    // A name so long that its label and the task prompt leave no room for text.
    expect(problem({ RELATIONS: Array.from({ length: 520 }, () => 'very').join(' ') })).toMatch(/RELATIONS .*task prompt/);
  });

  it('on a native relation model, checks labels and relations in one prompt, and refuses MERGE_ADJACENT with relations', () => {
    const RELEX = `${FIXTURES}tiny-span-relex`;
    const relex = loadModelText(RELEX);
    const checkRelex = (env: Record<string, string>) => checkModelSettings(relex, loadConfig({ env }).inference, RELEX);
    const fails = (env: Record<string, string>): string => {
      try {
        checkRelex(env);
      } catch (err) {
        if (isEnricherError(err, 'CONFIG_INVALID')) return err.message;
        throw err;
      }
      throw new Error('expected CONFIG_INVALID');
    };
    expect(checkRelex({ RELATIONS: 'acquired,chief executive of' }).maxWords).toBe(384);
    expect(fails({ RELATIONS: 'acquired,x<<REL>>' })).toMatch(/RELATIONS .* with LABELS .* in one relation-model prompt: .*<<REL>>/);
    expect(fails({ RELATIONS: Array.from({ length: 120 }, (_, i) => `relation number ${i}`).join(',') })).toMatch(/RELATIONS .* with LABELS .*leaving/);
    expect(fails({ RELATIONS: 'acquired', MERGE_ADJACENT: 'true' })).toMatch(/MERGE_ADJACENT/);
  });

  it('lists every problem at once', () => {
    const m = problem({ WINDOW_WORDS: '1000', WINDOW_OVERLAP_WORDS: '5', WINDOW_MAX_TOKENS: '4096', LABELS: '<<SEP>>' });
    for (const name of ['WINDOW_WORDS', 'WINDOW_OVERLAP_WORDS', 'WINDOW_MAX_TOKENS', 'LABELS']) expect(m).toContain(name);
  });
});

describe('preflightModel', () => {
  it('needs a model folder, complete, before anything starts', () => {
    expect(() => preflightModel(loadConfig({ env: {} }))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => preflightModel(loadConfig({ env: { MODEL_DIR: '/nonexistent' } }))).toThrow(expect.objectContaining({ code: 'MODEL_FILE_MISSING' }));
    expect(() => preflightModel(loadConfig({ env: { MODEL_DIR: SPAN, MODEL_VARIANT: 'q4' } }))).toThrow(expect.objectContaining({ code: 'MODEL_FILE_MISSING' }));
    expect(preflightModel(loadConfig({ env: { MODEL_DIR: SPAN } })).window).toMatchObject({ maxWords: 384 });
  });
});

describe('Preprocessor.limits', () => {
  const prompt = span.preprocessor.prompt(['person']);
  it('takes the window budget as windowMaxTokens or, for one release, its 0.1.0 name maxTokens; not both', () => {
    expect(span.preprocessor.limits(prompt, { windowMaxTokens: 256 }).windowMaxTokens).toBe(256);
    expect(span.preprocessor.limits(prompt, { maxTokens: 256 }).windowMaxTokens).toBe(256);
    expect(span.preprocessor.limits(prompt).windowMaxTokens).toBe(512);
    let refused: unknown;
    try {
      span.preprocessor.limits(prompt, { windowMaxTokens: 256, maxTokens: 256 });
    } catch (err) {
      refused = err;
    }
    expect(isEnricherError(refused, 'OPTIONS_INVALID')).toBe(true);
  });
});
