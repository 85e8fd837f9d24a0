/** BENCHMARKS.md keeps one section per CPU kind: a run on one kind never erases another's tables. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readParts, section, writeSection } from '../../bench/report-file.js';
import { cpuVendor } from '../../src/cpu-info.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'bench-report-')), 'BENCHMARKS.md');

describe('BENCHMARKS.md sections', () => {
  it('replaces the section of the kind that ran and keeps the other kinds and the by-hand block', () => {
    const path = tmp();
    writeFileSync(path, '# Benchmarks\n\n<!-- by-hand:start -->\n## Profile\nmeasured by hand\n<!-- by-hand:end -->\n');
    writeSection(path, 'cpu:intel-avx512vnni', section('cpu:intel-avx512vnni', ['## Intel', 'old']));
    writeSection(path, 'cpu:amd-avx2', section('cpu:amd-avx2', ['## AMD', 'amd table']));
    writeSection(path, 'shipped-model:amd-avx2', section('shipped-model:amd-avx2', ['## Shipped on AMD']));
    writeSection(path, 'gner:amd-avx2', section('gner:amd-avx2', ['## GNER on AMD']));
    writeSection(path, 'cpu:intel-avx512vnni', section('cpu:intel-avx512vnni', ['## Intel', 'new']));

    const text = readFileSync(path, 'utf8');
    expect(text).toContain('new');
    expect(text).not.toContain('old');
    expect(text).toContain('amd table');
    expect(text).toContain('measured by hand');
    // Order: CPU sections (by kind), shipped sections, GNER sections, by-hand, Reproduce.
    const order = ['<!-- cpu:amd-avx2:start', '<!-- cpu:intel-avx512vnni:start', '<!-- shipped-model:amd-avx2:start', '<!-- gner:amd-avx2:start', '<!-- by-hand:start', '## Reproduce'].map((m) => text.indexOf(m));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const parts = readParts(path);
    expect([...parts.cpu.keys()].sort()).toEqual(['cpu:amd-avx2', 'cpu:intel-avx512vnni']);
    expect([...parts.shipped.keys()]).toEqual(['shipped-model:amd-avx2']);
    expect([...parts.gner.keys()]).toEqual(['gner:amd-avx2']);
    // Rewriting an unchanged file is a fixed point.
    writeSection(path, 'cpu:amd-avx2', parts.cpu.get('cpu:amd-avx2')!);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('names the vendor from /proc/cpuinfo vendor_id', () => {
    expect(cpuVendor('GenuineIntel')).toBe('intel');
    expect(cpuVendor('AuthenticAMD')).toBe('amd');
    expect(cpuVendor('')).toBe('other');
  });
});
