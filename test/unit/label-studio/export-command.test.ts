import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labelStudioExportCommand, parseLabelMap } from '../../../src/cli/label-studio-export.js';

const dir = mkdtempSync(join(tmpdir(), 'ls-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('label-studio-export', () => {
  it('parses label maps and refuses malformed ones', () => {
    expect(parseLabelMap('PER=person, ORG = organization,')).toEqual({ PER: 'person', ORG: 'organization' });
    expect(() => parseLabelMap('PER')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseLabelMap('=person')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('writes one example per annotated task and exits 3 when a region was skipped', async () => {
    const input = join(dir, 'export.json');
    const output = join(dir, 'train.jsonl');
    const text = 'Merkel met Macron in Paris.';
    const region = (start: number, end: number, label: string) => ({ type: 'labels', value: { start, end, labels: [label] } });
    writeFileSync(input, JSON.stringify([{ id: 1, data: { text }, annotations: [{ result: [region(0, 6, 'PER'), region(22, 26, 'LOC')] }] }]));
    expect(await labelStudioExportCommand(['--input', input, '--output', output, '--label-map', 'PER=person'])).toBe(3);
    const lines = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([{ id: 'label-studio-1', text, tokenized_text: ['Merkel', 'met', 'Macron', 'in', 'Paris', '.'], ner: [[0, 0, 'person']] }]);
  });

  it('refuses what is not a JSON export of tasks', async () => {
    const input = join(dir, 'min.json');
    writeFileSync(input, JSON.stringify([{ text: 'JSON-MIN rows have no data object' }]));
    await expect(labelStudioExportCommand(['--input', input])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(labelStudioExportCommand([])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
