import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;
/** ship_model.py only copies and hashes files (standard library), so any python3 runs it. */
const PYTHON = existsSync(`${REPO}models/.venv/bin/python`) ? `${REPO}models/.venv/bin/python` : 'python3';
const hasPython = spawnSync(PYTHON, ['--version']).status === 0;

describe.skipIf(!hasPython)('models/ship_model.py (a training output -> the shipped folder, one variant)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function tmp(): string {
    const dir = mkdtempSync(join(tmpdir(), 'ship-model-'));
    dirs.push(dir);
    return dir;
  }
  function write(path: string, body: string): void {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, body);
  }

  it('copies config, tokenizer, training records and the chosen file; keeps the card; records what is left out', () => {
    const src = tmp();
    const dst = tmp();
    for (const f of ['gliner_config.json', 'tokenizer.json', 'tokenizer_config.json']) write(join(src, f), `{"from": "${f}"}`);
    for (const f of ['model.onnx', 'model_int8.onnx', 'model_factored_int8.onnx']) write(join(src, 'onnx', f), `onnx ${f}`);
    write(join(src, 'training', 'stage1.json'), '{}');
    write(join(src, 'BUILD_INFO.json'), JSON.stringify({ kind: 'export', parameters: 7, files: { stale: {} } }));
    write(join(dst, 'README.md'), 'the model card');
    write(join(dst, 'onnx', 'model_int8.onnx'), 'an older shipped file');

    execFileSync(PYTHON, [`${REPO}models/ship_model.py`, src, '--to', dst, '--variant', 'factored_int8', '--reason', 'within 1 F1 point'], { stdio: 'pipe' });

    expect(readdirSync(join(dst, 'onnx'))).toEqual(['model_factored_int8.onnx']);
    expect(readFileSync(join(dst, 'onnx', 'model_factored_int8.onnx'), 'utf8')).toBe('onnx model_factored_int8.onnx');
    expect(readFileSync(join(dst, 'README.md'), 'utf8')).toBe('the model card');
    expect(existsSync(join(dst, 'training', 'stage1.json'))).toBe(true);
    const info = JSON.parse(readFileSync(join(dst, 'BUILD_INFO.json'), 'utf8')) as {
      kind: string; parameters: number; shipped_variant: string; not_shipped_reason: string;
      not_shipped: Record<string, { bytes: number }>; files: Record<string, { sha256: string }>;
    };
    expect(info.kind).toBe('export');
    expect(info.parameters).toBe(7);
    expect(info.shipped_variant).toBe('factored_int8');
    expect(info.not_shipped_reason).toBe('within 1 F1 point');
    expect(Object.keys(info.not_shipped).sort()).toEqual(['onnx/model.onnx', 'onnx/model_int8.onnx']);
    expect(Object.keys(info.files)).toContain('onnx/model_factored_int8.onnx');
    expect(Object.keys(info.files)).not.toContain('README.md');
    expect(Object.keys(info.files)).not.toContain('stale');
  });

  it('refuses a folder without the chosen file, changing nothing', () => {
    const src = tmp();
    const dst = tmp();
    write(join(src, 'BUILD_INFO.json'), '{}');
    write(join(dst, 'onnx', 'model_int8.onnx'), 'kept');
    const run = spawnSync(PYTHON, [`${REPO}models/ship_model.py`, src, '--to', dst, '--variant', 'factored_int8', '--reason', 'r'], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/lacks onnx\/model_factored_int8\.onnx/);
    expect(readdirSync(join(dst, 'onnx'))).toEqual(['model_int8.onnx']);
  });
});
