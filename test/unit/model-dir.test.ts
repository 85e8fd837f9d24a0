import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mostExactVariant, ONNX_VARIANTS } from '../../src/gliner/model-dir.js';

describe('mostExactVariant', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function folder(...files: string[]): string {
    const dir = mkdtempSync(join(tmpdir(), 'model-dir-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'onnx'));
    for (const f of files) writeFileSync(join(dir, 'onnx', f), '');
    return dir;
  }

  it('prefers fp32, then the factored fp32 graph, then its mixed int8, then int8, then factored int8', () => {
    const all = ['fp32', 'factored', 'factored_mixed', 'int8', 'factored_int8'] as const;
    expect(mostExactVariant(folder(...all.map((v) => ONNX_VARIANTS[v])))).toBe('fp32');
    expect(mostExactVariant(folder(ONNX_VARIANTS.factored, ONNX_VARIANTS.int8, ONNX_VARIANTS.factored_int8))).toBe('factored');
    expect(mostExactVariant(folder(ONNX_VARIANTS.factored_mixed, ONNX_VARIANTS.int8, ONNX_VARIANTS.factored_int8))).toBe('factored_mixed');
    expect(mostExactVariant(folder(ONNX_VARIANTS.int8, ONNX_VARIANTS.factored_int8))).toBe('int8');
    expect(mostExactVariant(folder(ONNX_VARIANTS.factored_int8))).toBe('factored_int8');
  });

  it('is undefined for a folder with none of those files (other variants are named explicitly)', () => {
    expect(mostExactVariant(folder(ONNX_VARIANTS.fp16, ONNX_VARIANTS.opt))).toBeUndefined();
    expect(mostExactVariant(join(tmpdir(), 'no-such-model-folder'))).toBeUndefined();
  });

  it('knows the shipped folder: its one int8 file', () => {
    expect(mostExactVariant(new URL('../../models/gliner-news-minilm-l6/', import.meta.url).pathname)).toBe('int8');
  });
});
