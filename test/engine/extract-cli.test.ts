import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/golden.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

function extract(args: string[], input: string) {
  const r = spawnSync(process.execPath, [CLI, 'extract', ...args], { input, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD = [
  { id: 'a1', title: 'Microsoft founders', body: 'Microsoft was founded by Bill Gates and Paul Allen on April 4, 1975, in Albuquerque.', source: 'wire' },
  { id: 'a2', text: 'Angela Merkel met Emmanuel Macron in Paris. 😀 Zürich welcomed them.', labels: ['person', 'location'] },
];

describe('news-enricher extract', () => {
  for (const model of ['tiny-span', 'tiny-token']) {
    it(`enriches JSONL on ${model}, reports bad lines on stderr and goes on`, () => {
      const lines = [
        JSON.stringify(GOOD[0]),
        '{"id": "broken", "body": ',
        JSON.stringify({ id: 'no-body', title: 'x' }),
        '',
        JSON.stringify(GOOD[1]),
        JSON.stringify({ id: 'bad-label', body: 'Paris', labels: ['x<<ENT>>'] }),
      ];
      const r = extract(['--model', `${FIXTURES}models/${model}`, '--labels', 'person,organization,location,date', '--threshold', '0.3'], `${lines.join('\n')}\n`);
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      expect(out.map((o) => o.id)).toEqual(['a1', 'a2']);
      for (const [i, o] of out.entries()) {
        const src = GOOD[i] as Record<string, unknown>;
        for (const [k, v] of Object.entries(src)) expect(o[k]).toEqual(v); // input keys kept
        expect(o.entities.length).toBeGreaterThan(0);
        for (const e of o.entities) expect((src[e.field] as string).slice(e.start, e.end)).toBe(e.text);
        expect(o.enrichment).toMatchObject({ model, truncated: false, threshold: 0.3, flat_ner: true, multi_label: false });
        expect(o.enrichment.model_sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(o.entity_summary.length).toBeGreaterThan(0);
        expect(Object.keys(o.entities_by_label).length).toBeGreaterThan(0);
      }
      expect(out[0]!.enrichment.windows_by_field).toEqual({ title: 1, body: 1 });
      expect(out[1]!.enrichment.labels).toEqual(['person', 'location']);
      const errors = r.stderr
        .split('\n')
        .filter((l) => l.startsWith('{"line"'))
        .map((l) => JSON.parse(l) as { line: number; error: { code: string } });
      expect(errors.map((e) => [e.line, e.error.code])).toEqual([
        [2, 'MESSAGE_INVALID_JSON'],
        [3, 'MESSAGE_SCHEMA'],
        [6, 'LABELS_INVALID'],
      ]);
    });
  }

  it('fails at start with a coded error when the model folder is wrong', () => {
    const r = extract(['--model', '/nonexistent'], '');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr.trim().split('\n').pop()!)).toMatchObject({ code: 'MODEL_FILE_MISSING' });
  });
});
