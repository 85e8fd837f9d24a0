import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * What this CPU offers ONNX Runtime: its model name and the int8 kernel family MLAS picks.
 * Dynamic int8 results differ between families far more than fp32 does (AVX2's u8×s8
 * multiply-add saturates at int16, VNNI's does not), and speed differs even more, so the
 * benchmarks, the parity goldens and the service's start-up log name it.
 */
export type CpuFamily = 'amx' | 'avx512vnni' | 'avxvnni' | 'avx512' | 'avx2' | 'sse' | 'unknown';

/** Flags of /proc/cpuinfo (empty where there is none). */
export function cpuFlags(): Set<string> {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags'));
    return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

/** The int8 kernel family, checked in the order MLAS prefers them. */
export function int8Family(flags: Set<string> = cpuFlags()): CpuFamily {
  if (flags.size === 0) return 'unknown';
  if (flags.has('amx_int8')) return 'amx';
  if (flags.has('avx512_vnni')) return 'avx512vnni';
  if (flags.has('avx_vnni')) return 'avxvnni';
  if (flags.has('avx512bw')) return 'avx512';
  if (flags.has('avx2')) return 'avx2';
  return 'sse';
}

/** The flags that decide ORT's kernels, as present on this CPU. */
export const KERNEL_FLAGS = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'amx_bf16'] as const;

export interface CpuInfo {
  model: string;
  cores: number;
  family: CpuFamily;
  flags: string[];
}

export function cpuInfo(): CpuInfo {
  const flags = cpuFlags();
  return {
    model: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    family: int8Family(flags),
    flags: KERNEL_FLAGS.filter((f) => flags.has(f)),
  };
}
