import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EnricherError } from '../errors.js';

/**
 * CLI flags shared by the commands, each mapped onto a config path. Flags override
 * environment variables and the config file (see config-load.ts).
 */
export const COMMON_FLAGS = {
  config: { type: 'string', path: undefined, help: 'JSON/YAML config file (default $CONFIG_FILE)' },
  model: { type: 'string', path: 'model.dir', help: 'model folder (gliner_config.json, tokenizer.json, onnx/)' },
  variant: { type: 'string', path: 'model.variant', help: 'ONNX variant: fp32 | fp16 | int8 | uint8 | quantized | … or a file name' },
  labels: { type: 'string', path: 'inference.labels', help: 'comma-separated entity labels' },
  threshold: { type: 'string', path: 'inference.threshold', help: 'keep spans scoring above this (0–1)' },
  nested: { type: 'boolean', path: 'inference.flatNer', invert: true, help: 'allow nested entities (default: flat)' },
  'multi-label': { type: 'boolean', path: 'inference.multiLabel', help: 'allow several labels on one span' },
  'merge-adjacent': { type: 'boolean', path: 'inference.mergeAdjacent', help: 'merge touching same-label entities (NuNER Zero)' },
  'window-words': { type: 'string', path: 'inference.windowWords', help: 'words per window (default: model max_len)' },
  'window-overlap': { type: 'string', path: 'inference.windowOverlapWords', help: 'words shared by neighbouring windows' },
  'window-max-tokens': { type: 'string', path: 'inference.windowMaxTokens', help: 'encoder sub-token budget per window' },
  'execution-provider': { type: 'string', path: 'inference.executionProvider', help: 'cpu | cuda' },
  'device-id': { type: 'string', path: 'inference.cudaDeviceId', help: 'CUDA device ordinal' },
  workers: { type: 'string', path: 'inference.workers', help: 'inference worker threads (0: on the calling thread)' },
  threads: { type: 'string', path: 'inference.intraOpThreads', help: 'ONNX Runtime threads per worker (0 = auto)' },
  'batch-size': { type: 'string', path: 'inference.batchMaxItems', help: 'windows per inference batch' },
  'batch-tokens': { type: 'string', path: 'inference.batchMaxTokens', help: 'padded sub-tokens per inference batch' },
  'log-level': { type: 'string', path: 'logLevel', help: 'fatal | error | warn | info | debug | trace | silent' },
} as const satisfies Record<string, FlagSpec>;

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Config path the flag sets; undefined for flags the command reads itself. */
  path: string | undefined;
  invert?: boolean;
  help: string;
}

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  /** Config overrides built from the flags that map onto config paths. */
  overrides: Record<string, unknown>;
  positionals: string[];
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
  for (const [name, spec] of Object.entries(specs)) {
    const v = (parsed.values as Record<string, string | boolean | undefined>)[name];
    if (v === undefined || spec.path === undefined) continue;
    const value = spec.invert === true && typeof v === 'boolean' ? !v : v;
    const parts = spec.path.split('.');
    let node = overrides;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return { values: parsed.values as ParsedFlags['values'], overrides, positionals: parsed.positionals };
}

/** Help text of a flag table. */
export function usage(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(([name, s]) => `  --${name}${s.type === 'string' ? ' <value>' : ''}`.padEnd(32) + s.help)
    .join('\n');
}
