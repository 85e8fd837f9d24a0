import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * What this CPU offers ONNX Runtime: its model name and the int8 kernel family MLAS picks.
 * Dynamic int8 results differ between families far more than fp32 does (AVX2's u8×s8
 * multiply-add saturates at int16, VNNI's does not), and speed differs even more, so the
 * benchmarks, the parity goldens and the service's start-up log name it.
 */
export type CpuFamily = 'amx' | 'avx512vnni' | 'avxvnni' | 'avx512' | 'avx2' | 'sse' | 'unknown';

/** The value of the first `key` line of /proc/cpuinfo ('' where there is none). */
function cpuinfoField(key: string): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith(key));
    return (line?.split(':')[1] ?? '').trim();
  } catch {
    return '';
  }
}

/** Flags of /proc/cpuinfo (empty where there is none). */
export function cpuFlags(): Set<string> {
  const line = cpuinfoField('flags');
  return new Set(line === '' ? [] : line.split(/\s+/));
}

export type CpuVendor = 'intel' | 'amd' | 'other';

/** The vendor, from /proc/cpuinfo's vendor_id. */
export function cpuVendor(vendorId: string = cpuinfoField('vendor_id')): CpuVendor {
  if (vendorId === 'GenuineIntel') return 'intel';
  if (vendorId === 'AuthenticAMD') return 'amd';
  return 'other';
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
  vendor: CpuVendor;
  cores: number;
  family: CpuFamily;
  flags: string[];
  /** The CPU kind benchmarks are filed under: vendor and int8 kernel family, e.g. `amd-avx512vnni`. */
  kind: string;
}

export function cpuInfo(): CpuInfo {
  const flags = cpuFlags();
  const vendor = cpuVendor();
  const family = int8Family(flags);
  return {
    model: cpus()[0]?.model.trim() ?? 'unknown',
    vendor,
    cores: cpus().length,
    family,
    flags: KERNEL_FLAGS.filter((f) => flags.has(f)),
    kind: `${vendor}-${family}`,
  };
}
