import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EnricherError } from '../errors.js';

/**
 * CLI flags shared by the commands, each mapped onto a config path. Flags override
 * environment variables and the config file (see config-load.ts).
 */
export const COMMON_FLAGS = {
  config: { type: 'string', path: undefined, help: 'JSON/YAML config file (default $CONFIG_FILE)' },
  model: { type: 'string', path: 'model.dir', help: 'model folder (gliner_config.json, tokenizer.json, onnx/)' },
  backend: { type: 'string', path: 'model.backend', help: 'gliner (default) | gner (a GNER-T5 seq2seq export; entities only)' },
  variant: { type: 'string', path: 'model.variant', help: 'ONNX variant: fp32 | fp16 | int8 | uint8 | quantized | … or a file name' },
  labels: { type: 'string', path: 'inference.labels', help: 'comma-separated entity labels' },
  threshold: { type: 'string', path: 'inference.threshold', help: 'keep spans scoring above this (0–1)' },
  nested: { type: 'boolean', path: 'inference.flatNer', invert: true, help: 'allow nested entities (default: flat)' },
  'multi-label': { type: 'boolean', path: 'inference.multiLabel', help: 'allow several labels on one span' },
  'merge-adjacent': { type: 'boolean', path: 'inference.mergeAdjacent', help: 'merge touching same-label entities (NuNER Zero)' },
  relations: { type: 'string', path: 'inference.relations', help: 'comma-separated relation names between entities (a second pass)' },
  'relation-threshold': { type: 'string', path: 'inference.relationThreshold', help: 'keep relations scoring above this (0–1)' },
  'window-words': { type: 'string', path: 'inference.windowWords', help: 'words per window (default: model max_len)' },
  'window-overlap-words': { type: 'string', path: 'inference.windowOverlapWords', help: 'words shared by neighbouring windows' },
  'window-max-tokens': { type: 'string', path: 'inference.windowMaxTokens', help: 'encoder sub-token budget per window' },
  'execution-provider': { type: 'string', path: 'inference.executionProvider', help: 'cpu | cuda' },
  'device-id': { type: 'string', path: 'inference.cudaDeviceId', help: 'CUDA device ordinal' },
  workers: { type: 'string', path: 'inference.workers', help: 'inference worker threads (0: on the calling thread)' },
  concurrency: { type: 'string', path: 'inference.concurrency', help: 'articles in flight at once (0 = auto: 2 × workers × batch items, at least 4)' },
  'intra-op-threads': { type: 'string', path: 'inference.intraOpThreads', help: 'ONNX Runtime threads per worker (0 = auto)' },
  'batch-max-items': { type: 'string', path: 'inference.batchMaxItems', help: 'windows per inference batch' },
  'batch-max-tokens': { type: 'string', path: 'inference.batchMaxTokens', help: 'padded sub-tokens per inference batch' },
  'log-level': { type: 'string', path: 'logLevel', help: 'fatal | error | warn | info | debug | trace | silent' },
  // Old names (0.1.0), accepted for one release; each use is reported in ParsedFlags.deprecated.
  'window-overlap': { type: 'string', path: 'inference.windowOverlapWords', renamedTo: 'window-overlap-words', help: '' },
  threads: { type: 'string', path: 'inference.intraOpThreads', renamedTo: 'intra-op-threads', help: '' },
  'batch-size': { type: 'string', path: 'inference.batchMaxItems', renamedTo: 'batch-max-items', help: '' },
  'batch-tokens': { type: 'string', path: 'inference.batchMaxTokens', renamedTo: 'batch-max-tokens', help: '' },
} as const satisfies Record<string, FlagSpec>;

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Config path the flag sets; undefined for flags the command reads itself. */
  path: string | undefined;
  invert?: boolean;
  /** An old name kept for one release: parsed like the new one, left out of the help, reported when used. */
  renamedTo?: string;
  help: string;
}

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  /** Config overrides built from the flags that map onto config paths. */
  overrides: Record<string, unknown>;
  positionals: string[];
  /** One line per old flag name used (`--threads is now --intra-op-threads`), for the command to log. */
  deprecated: string[];
}

/** Parses argv against the given flag table; unknown flags are errors. */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>): ParsedFlags {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new EnricherError('CONFIG_INVALID', `${(err as Error).message}\n${usage(specs)}`);
  }
  const overrides: Record<string, unknown> = {};
  const deprecated: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const v = (parsed.values as Record<string, string | boolean | undefined>)[name];
    if (v === undefined) continue;
    if (spec.renamedTo !== undefined) {
      if ((parsed.values as Record<string, unknown>)[spec.renamedTo] !== undefined) {
        throw new EnricherError('CONFIG_INVALID', `--${name} is the old name of --${spec.renamedTo}: give one of them`);
      }
      deprecated.push(`--${name} is now --${spec.renamedTo} (the old name goes in the next release)`);
    }
    if (spec.path === undefined) continue;
    const value = spec.invert === true && typeof v === 'boolean' ? !v : v;
    const parts = spec.path.split('.');
    let node = overrides;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return { values: parsed.values as ParsedFlags['values'], overrides, positionals: parsed.positionals, deprecated };
}

/** Help text of a flag table. */
export function usage(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs)
    .filter(([, s]) => s.renamedTo === undefined)
    .map(([name, s]) => [`  --${name}${s.type === 'string' ? ' <value>' : ''}`, s.help] as const);
  // The help column starts two spaces after the longest flag, so no flag runs into its text.
  const width = Math.max(32, ...rows.map(([flag]) => flag.length + 2));
  return rows.map(([flag, help]) => flag.padEnd(width) + help).join('\n');
}
