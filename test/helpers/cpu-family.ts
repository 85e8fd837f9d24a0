import { readFileSync } from 'node:fs';

/**
 * The int8 kernel family ONNX Runtime (MLAS) picks on this CPU. Dynamic int8 results differ
 * between families far more than fp32 does (AVX2's u8×s8 multiply-add saturates at int16,
 * VNNI's does not), but CPUs of one family run the same kernel. Checked in the order MLAS
 * prefers them. PARITY_CPU_FAMILY overrides the detection, for runs under an emulator
 * (`qemu-x86_64 -cpu Haswell` reports the host's /proc/cpuinfo, not the emulated CPU).
 */
export type CpuFamily = 'amx' | 'avx512vnni' | 'avxvnni' | 'avx512' | 'avx2' | 'sse' | 'unknown';

export function cpuFlags(): Set<string> {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags'));
    return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

export function int8Family(flags: Set<string> = cpuFlags()): CpuFamily {
  const override = process.env['PARITY_CPU_FAMILY'];
  if (override) return override as CpuFamily;
  if (flags.size === 0) return 'unknown';
  if (flags.has('amx_int8')) return 'amx';
  if (flags.has('avx512_vnni')) return 'avx512vnni';
  if (flags.has('avx_vnni')) return 'avxvnni';
  if (flags.has('avx512bw')) return 'avx512';
  if (flags.has('avx2')) return 'avx2';
  return 'sse';
}
