import { int8Family as detect, type CpuFamily } from '../../src/cpu-info.js';

export { cpuFlags, type CpuFamily } from '../../src/cpu-info.js';

/**
 * The int8 kernel family of this CPU (src/cpu-info.ts). PARITY_CPU_FAMILY overrides the
 * detection, for runs under an emulator (`qemu-x86_64 -cpu Haswell` reports the host's
 * /proc/cpuinfo, not the emulated CPU).
 */
export function int8Family(flags?: Set<string>): CpuFamily {
  const override = process.env['PARITY_CPU_FAMILY'];
  if (override) return override as CpuFamily;
  return detect(flags);
}
