import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/golden.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

function extract(args: string[], input: string | Buffer, logLevel = 'warn') {
  const r = spawnSync(process.execPath, [CLI, 'extract', ...args], { input, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: logLevel } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The error records and the summary line extract writes on stderr. */
function report(stderr: string) {
  const lines = stderr.split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => l.startsWith('{"line"')).map((l) => JSON.parse(l) as { line: number; error: { code: string } });
  const summaries = lines.filter((l) => l.startsWith('{"summary"')).map((l) => (JSON.parse(l) as { summary: Record<string, unknown> }).summary);
  return { errors: errors.map((e) => [e.line, e.error.code] as const), summaries };
}

const SPAN = `${FIXTURES}models/tiny-span`;

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
      expect(r.code, r.stderr).toBe(3); // some lines failed
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
      expect(report(r.stderr).summaries).toEqual([expect.objectContaining({ lines: 5, enriched: 2, failed: 3, errors: { MESSAGE_INVALID_JSON: 1, MESSAGE_SCHEMA: 1, LABELS_INVALID: 1 } })]);
    });
  }

  it('adds relations between the entities with --relations (and a message\'s own relations)', () => {
    const lines = [
      JSON.stringify({ id: 'r1', body: 'Microsoft acquired Activision Blizzard. Satya Nadella leads Microsoft in Redmond.' }),
      JSON.stringify({ id: 'r2', body: 'Microsoft acquired Activision Blizzard.', relations: [] }),
      JSON.stringify({ id: 'r3', body: 'Paris', relations: ['a <> b'] }),
    ];
    const r = extract(['--model', SPAN, '--labels', 'person,organization,location', '--threshold', '0.3', '--relations', 'acquired,leads', '--relation-threshold', '0.1'], `${lines.join('\n')}\n`);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(out.map((o) => o.id)).toEqual(['r1', 'r2']);
    const [r1, r2] = out;
    expect(r1!.enrichment).toMatchObject({ relations: ['acquired', 'leads'], relation_threshold: 0.1 });
    expect(r1!.relations.length).toBeGreaterThan(0);
    const body = (JSON.parse(lines[0]!) as { body: string }).body;
    const entityTexts = new Set(r1!.entities.map((e: { text: string }) => e.text));
    for (const rel of r1!.relations) {
      expect(['acquired', 'leads']).toContain(rel.relation);
      expect(rel.field).toBe('body');
      expect(body.slice(rel.head.start, rel.head.end)).toBe(rel.head.text);
      expect(body.slice(rel.tail.start, rel.tail.end)).toBe(rel.tail.text);
      expect(entityTexts.has(rel.head.text)).toBe(true);
      expect(rel.score).toBeGreaterThan(0.1);
    }
    // A message's empty list asks none; a name with the separator is the message's fault.
    expect(r2!.relations).toEqual([]);
    expect(r2!.enrichment.relations).toEqual([]);
    expect(report(r.stderr).errors).toEqual([[3, 'MESSAGE_SCHEMA']]);
  });

  it('--relations on a native relation model: entities and relations in one pass, both ends reported entities', () => {
    const body = 'Microsoft completed its acquisition of Activision Blizzard on Friday, the company said in Redmond.';
    const r = extract(['--model', `${FIXTURES}models/tiny-span-relex`, '--labels', 'person,organization,location', '--relations', 'acquired,located in', '--relation-threshold', '0.5'], `${JSON.stringify({ id: 'n1', body })}\n`);
    const [o] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(o!.enrichment).toMatchObject({ model: 'tiny-span-relex', relations: ['acquired', 'located in'], relation_threshold: 0.5 });
    expect(o!.relations.length).toBeGreaterThan(0);
    const ends = new Set(o!.entities.map((e: { start: number; end: number; label: string }) => `${e.start}:${e.end}:${e.label}`));
    for (const rel of o!.relations) {
      expect(ends.has(`${rel.head.start}:${rel.head.end}:${rel.head.label}`)).toBe(true);
      expect(ends.has(`${rel.tail.start}:${rel.tail.end}:${rel.tail.label}`)).toBe(true);
      expect(body.slice(rel.tail.start, rel.tail.end)).toBe(rel.tail.text);
      expect(rel.score).toBeGreaterThan(0.5);
    }
  });

  it('applies the input rules of the service: BOM accepted, invalid UTF-8 and deep nesting refused, ids from line numbers', () => {
    const input = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]), // UTF-8 byte-order mark before line 1
      Buffer.from(`${JSON.stringify(GOOD[0])}\n`),
      Buffer.from('{"id":"bad-utf8","body":"caf'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}\n'),
      Buffer.from(`${JSON.stringify({ body: 'Angela Merkel visited Paris.' })}\r\n`),
      Buffer.from(`{"id":"deep-1","body":"Reuters reported from Paris.","extra":${'['.repeat(6000)}${']'.repeat(6000)}}\n`),
      Buffer.from(`${JSON.stringify(GOOD[1])}\n`),
    ]);
    const r = extract(['--model', SPAN, '--labels', 'person,organization,location'], input);
    expect(r.code, r.stderr).toBe(3);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; body?: string });
    expect(out.map((o) => o.id)).toEqual(['a1', 'line-3', 'a2']);
    expect(out[1]!.body).toBe('Angela Merkel visited Paris.');
    const { errors, summaries } = report(r.stderr);
    expect(errors).toEqual([
      [2, 'MESSAGE_INVALID_UTF8'],
      [4, 'MESSAGE_TOO_DEEP'],
    ]);
    expect(summaries).toEqual([expect.objectContaining({ lines: 5, enriched: 3, failed: 2, errors: { MESSAGE_INVALID_UTF8: 1, MESSAGE_TOO_DEEP: 1 } })]);
  });

  it('exits 0 with a summary when every line was enriched', () => {
    const r = extract(['--model', SPAN], `${JSON.stringify(GOOD[0])}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(report(r.stderr).summaries).toEqual([expect.objectContaining({ lines: 1, enriched: 1, failed: 0, errors: {} })]);
  });

  it('refuses a missing input file before loading the model', () => {
    const r = extract(['--model', SPAN, '--input', '/nonexistent.jsonl'], '', 'info');
    expect(r.code).toBe(1);
    const last = JSON.parse(r.stderr.trim().split('\n').pop()!) as { code: string; message: string };
    expect(last).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(last.message).toContain('/nonexistent.jsonl');
    expect(r.stderr).not.toContain('model loaded');
  });

  it('refuses window settings the model cannot take before reading a line', () => {
    const r = extract(['--model', SPAN, '--window-words', '8', '--window-overlap-words', '3'], `${JSON.stringify(GOOD[0])}\n`);
    expect(r.code).toBe(1);
    expect(report(r.stderr).errors).toEqual([]);
    expect(r.stdout).toBe('');
    const last = JSON.parse(r.stderr.trim().split('\n').pop()!) as { code: string; message: string };
    expect(last.code).toBe('CONFIG_INVALID');
    expect(last.message).toMatch(/WINDOW_WORDS.*at least 45 words/);
  });

  it('fails at start with a coded error when the model folder is wrong', () => {
    const r = extract(['--model', '/nonexistent'], '');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr.trim().split('\n').pop()!)).toMatchObject({ code: 'MODEL_FILE_MISSING' });
  });
});
