/**
 * BENCHMARKS.md as a set of keyed sections, so that a run on one CPU kind replaces only its own
 * tables and keeps those measured on other kinds:
 *
 *   header · one `cpu:<kind>` section per CPU kind · one `shipped-model:<kind>` section per kind ·
 *   one `gner:<kind>` section per kind (the generative backend) · the by-hand block · Reproduce
 *
 * Each section sits between `<!-- name:start -->` and `<!-- name:end -->` markers; the kind is
 * `src/cpu-info.ts`'s `vendor-family` (e.g. `intel-avx512vnni`, `amd-avx2`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface ReportParts {
  /** `cpu:<kind>` → the section's text, markers included. */
  cpu: Map<string, string>;
  /** `shipped-model:<kind>` → the section's text, markers included. */
  shipped: Map<string, string>;
  /** `gner:<kind>` → the section's text, markers included. */
  gner: Map<string, string>;
  /** The sections measured by hand (`by-hand` markers included), kept as they are. */
  byHand?: string;
}

const MARKER = /<!-- ((?:cpu|shipped-model|gner):[a-z0-9-]+|by-hand):start -->/g;

export const startMarker = (name: string) => `<!-- ${name}:start -->`;
export const endMarker = (name: string) => `<!-- ${name}:end -->`;

/** Wraps a section's lines in its markers. */
export function section(name: string, lines: readonly string[]): string {
  return [startMarker(name), ...lines, endMarker(name)].join('\n');
}

function mapOf(name: string): 'cpu' | 'shipped' | 'gner' {
  return name.startsWith('cpu:') ? 'cpu' : name.startsWith('gner:') ? 'gner' : 'shipped';
}

export function readParts(path: string): ReportParts {
  const parts: ReportParts = { cpu: new Map(), shipped: new Map(), gner: new Map() };
  if (!existsSync(path)) return parts;
  const text = readFileSync(path, 'utf8');
  for (const m of text.matchAll(MARKER)) {
    const name = m[1]!;
    const end = text.indexOf(endMarker(name), m.index);
    if (end < 0) continue;
    const body = text.slice(m.index, end + endMarker(name).length);
    if (name === 'by-hand') parts.byHand = body;
    else parts[mapOf(name)].set(name, body);
  }
  return parts;
}

const HEADER = [
  '# Benchmarks',
  '',
  'Written by `npm run bench`. Speed depends on the CPU far more than on anything else here (its vector units decide which ONNX Runtime kernels run, and dynamic int8 differs most), so each CPU kind the bench has run on keeps its own section: a run replaces the section of the kind it ran on and leaves the others. Every figure is the median of repeated runs after a warm-up, with (min–max); these machines are shared and noisy, so compare ratios taken in the same section, not absolute numbers across sections.',
  '',
];

const REPRODUCE = [
  '## Reproduce',
  '',
  '```bash',
  'npm ci',
  'npm run bench          # 28-43 min on 2 cores (+6 min the first time); BENCH_QUICK=1: a smoke run of a few minutes',
  'BENCH_STAGES=gner npm run bench    # only the GNER backend against GLiNER (~6 min)',
  'BENCH_REPORT_ONLY=1 npm run bench   # re-render this CPU kind\'s sections from bench/out/results.json',
  '```',
  '',
  'The first run creates the pinned Python reference environment (`models/setup.sh`) and builds the benchmark model (`models/build/`); later runs reuse both. It files its tables under this CPU\'s kind (`src/cpu-info.ts`: vendor and int8 kernel family). Raw per-run figures: `bench/out/results.json`. The harness: `bench/run.ts` (stages), `bench/engine-bench.ts` (ours), `bench/reference.py` (the reference), `bench/e2e.ts`, `bench/gner-bench.ts` + `bench/gner-report.ts` (the GNER backend against GLiNER), `bench/matmul_peak.py`, `bench/profile_ops.py` (per-operator ORT time, run by hand), `bench/report-file.ts` (the sections of this file).',
];

export function writeParts(path: string, parts: ReportParts): void {
  const sorted = (m: Map<string, string>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
  const blocks = [...sorted(parts.cpu), ...sorted(parts.shipped), ...sorted(parts.gner), ...(parts.byHand ? [parts.byHand] : [])];
  writeFileSync(path, `${[...HEADER, ...blocks.flatMap((b) => [b, '']), ...REPRODUCE].join('\n')}\n`);
}

/** Replaces (or adds) one section and rewrites the file around it. */
export function writeSection(path: string, name: string, text: string): void {
  const parts = readParts(path);
  parts[mapOf(name)].set(name, text);
  writeParts(path, parts);
}
