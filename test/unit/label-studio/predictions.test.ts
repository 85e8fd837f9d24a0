import { describe, expect, it } from 'vitest';
import type { NerTarget } from '../../../src/label-studio/label-config.js';
import { modelVersion, targetPrompts, taskPrediction } from '../../../src/label-studio/predictions.js';

const target: NerTarget = { fromName: 'label', toName: 'text', field: 'text', labels: ['PER', 'ORG', 'LOC'] };

describe('targetPrompts', () => {
  it('asks for the label values themselves, or their mapped prompts', () => {
    expect(targetPrompts(target).prompts).toEqual(['PER', 'ORG', 'LOC']);
    const p = targetPrompts(target, { PER: 'person', ORG: 'organization' });
    expect(p.prompts).toEqual(['person', 'organization', 'LOC']);
    expect(p.valueOf.get('person')).toBe('PER');
  });

  it('refuses two values mapped to one prompt, and empty prompts', () => {
    expect(() => targetPrompts(target, { PER: 'entity', ORG: 'entity' })).toThrow(expect.objectContaining({ code: 'LABEL_CONFIG_INVALID' }));
    expect(() => targetPrompts(target, { LOC: ' ' })).toThrow(expect.objectContaining({ code: 'LABEL_CONFIG_INVALID' }));
  });
});

describe('taskPrediction', () => {
  it('gives Label Studio regions with label values, entity scores and the lowest score for the task', () => {
    const prompts = targetPrompts(target, { PER: 'person', LOC: 'location' });
    const title = targetPrompts({ ...target, toName: 'title', field: 'headline' }, { PER: 'person', LOC: 'location' });
    const p = taskPrediction(
      [
        { prompts, entities: [{ start: 0, end: 6, text: 'Merkel', label: 'person', score: 0.91 }, { start: 21, end: 26, text: 'Paris', label: 'location', score: 0.62 }] },
        { prompts: title, entities: [{ start: 3, end: 8, text: 'Rome', label: 'location', score: 0.77 }] },
      ],
      'gliner-news-minilm-l6@13d342a76e3e',
    );
    expect(p.score).toBe(0.62);
    expect(p.model_version).toBe('gliner-news-minilm-l6@13d342a76e3e');
    expect(p.result).toEqual([
      { from_name: 'label', to_name: 'text', type: 'labels', value: { start: 0, end: 6, text: 'Merkel', labels: ['PER'] }, score: 0.91 },
      { from_name: 'label', to_name: 'text', type: 'labels', value: { start: 21, end: 26, text: 'Paris', labels: ['LOC'] }, score: 0.62 },
      { from_name: 'label', to_name: 'title', type: 'labels', value: { start: 3, end: 8, text: 'Rome', labels: ['LOC'] }, score: 0.77 },
    ]);
  });

  it('scores a task with nothing found 0, so uncertainty sampling shows it early', () => {
    expect(taskPrediction([{ prompts: targetPrompts(target), entities: [] }], 'm')).toEqual({ model_version: 'm', score: 0, result: [] });
  });

  it('names the model by folder name and sha prefix', () => {
    expect(modelVersion({ name: 'gliner-news-minilm-l6', sha256: '13d342a76e3e9850e92a6319998d8a81b943e4ed6855cabdb1a787e4d8b666df' })).toBe('gliner-news-minilm-l6@13d342a76e3e');
  });
});
