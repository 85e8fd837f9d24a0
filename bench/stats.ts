/** Small statistics for benchmark figures: medians over repeated runs, never means. */

export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { min: NaN, median: NaN, max: NaN, n: 0 };
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { min: s[0]!, median, max: s[n - 1]!, n };
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

/** Rates (units per second) of each run, given the work per run and its seconds. */
export function rates(work: number, seconds: readonly number[]): Spread {
  return spread(seconds.map((s) => work / s));
}

export const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

/** "median (min–max)" of a spread. */
export const fmtSpread = (s: Spread, digits = 0): string => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
