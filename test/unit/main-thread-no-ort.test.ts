/**
 * The configuration, `produce` and the service's main thread never load ONNX Runtime (nothing
 * there runs a model): only an inference slot does, in a worker thread, or on the calling
 * thread when a pool runs with `workers` 0 (DESIGN §7).
 * Imports the built modules in a fresh node with an ESM resolve hook that reports what loads,
 * as package-exports.test.ts does. Needs `npm run build` (dist/).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Reports every resolution of the native engine and the tokenizer (an ESM resolve hook in the child).
const HOOK = `data:text/javascript,${encodeURIComponent(
  `export async function resolve(s, c, n) { if (/^(onnxruntime-node|onnxruntime-common|@huggingface\\/tokenizers)$/.test(s)) process.stderr.write('LOADED ' + s + '\\n'); return n(s, c); }`,
)}`;

/** What importing `file` (relative to the repository root) loads, in a fresh node. */
function loadedBy(file: string): string[] {
  const code = `import { register } from 'node:module'; register(${JSON.stringify(HOOK)});
await import(${JSON.stringify(`./${file}`)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import ${file} failed: ${r.stderr}`);
  return [...new Set(r.stderr.match(/LOADED \S+/g) ?? [])].sort();
}

describe('the main thread never loads ONNX Runtime (after npm run build)', () => {
  for (const file of ['dist/pipeline/service.js', 'dist/config.js', 'dist/cli/produce.js']) {
    it(`importing ${file}`, () => {
      expect(loadedBy(file).filter((l) => l.includes('onnxruntime'))).toEqual([]);
    });
  }

  it('the service loads only the tokenizer side, for its start-up check and to prepare articles', () => {
    expect(loadedBy('dist/pipeline/service.js')).toEqual(['LOADED @huggingface/tokenizers']);
  });
});
