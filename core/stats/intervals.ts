/** A point estimate with its two-sided interval (fractions, like every number in results.json). */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
  /** How the interval was made, e.g. "bootstrap over 900 images (2000 resamples)". */
  method: string;
}

/** Standard normal quantile for the 95% intervals used throughout. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of a binomial proportion k/n (Wilson 1927; Newcombe 1998's method 3): stays inside
 * [0, 1] and keeps its coverage for small n and for k at 0 or n, where the Wald interval collapses.
 */
export function wilsonInterval(k: number, n: number, z = Z95): { lo: number; hi: number } {
  if (n <= 0) return { lo: 0, hi: 1 };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (any statistics table). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(df: number): number {
  if (df < 1) return NaN;
  return df <= 30 ? T975[df - 1]! : Z95 + 2.4 / df; // within 0.002 of the exact quantile above 30
}

/**
 * Mean of independent repeats (e.g. seeds) with the 95% Student-t interval: mean ± t(n-1) · sd / √n.
 * With one value there is no spread to measure: the interval is the value itself and `method` says so.
 */
export function meanInterval(values: number[]): Estimate & { n: number; sd: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, n);
  if (n < 2) return { value: mean, lo: mean, hi: mean, n, sd: 0, method: 'one value: no interval' };
  const sd = Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return { value: mean, lo: mean - half, hi: mean + half, n, sd, method: `t interval over ${n} seeds` };
}
