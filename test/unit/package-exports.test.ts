import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, { types: string; import: string } | string>;
};

// Records which of the heavy dependencies an import loads (an ESM resolve hook in the child).
const HOOK = `data:text/javascript,${encodeURIComponent(
  `export async function resolve(s, c, n) { if (/^(kafkajs|@elastic\\/elasticsearch|onnxruntime-node)$/.test(s)) process.stderr.write('LOADED ' + s + '\\n'); return n(s, c); }`,
)}`;

/** Imports `specifier` as a user of the package would (self-reference), in a fresh node. */
function importAsUser(specifier: string, expr: string): { out: string; loaded: string[] } {
  const code = `import { register } from 'node:module'; register(${JSON.stringify(HOOK)});
const m = await import(${JSON.stringify(specifier)}); console.log(${expr});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import ${specifier} failed: ${r.stderr}`);
  return { out: r.stdout.trim(), loaded: [...new Set(r.stderr.match(/LOADED \S+/g) ?? [])].sort() };
}

describe('package.json describes what the package exports (after npm run build)', () => {
  it('points main, types and every export at built files', () => {
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : [e.types, e.import]))];
    for (const t of targets) expect(existsSync(`${ROOT}${t}`), t).toBe(true);
  });

  it('imports GlinerEngine from the package name, and the engine entry loads no Kafka or Elasticsearch client', () => {
    expect(importAsUser('news-entity-enricher', 'typeof m.GlinerEngine.load + " " + typeof m.EnricherService').out).toBe('function function');
    const engine = importAsUser('news-entity-enricher/engine', 'typeof m.GlinerEngine.load');
    expect(engine.out).toBe('function');
    // ONNX Runtime loads with a model (the in-process slot imports it), not with the entry.
    expect(engine.loaded).toEqual([]);
    const loaded = importAsUser(
      'news-entity-enricher/engine',
      `await (async () => { const e = await m.GlinerEngine.load('test/fixtures/models/tiny-span'); await e.close(); return e.model.spanMode; })()`,
    );
    expect(loaded.out).toBe('span');
    expect(loaded.loaded).toEqual(['LOADED onnxruntime-node']);
  });
});
