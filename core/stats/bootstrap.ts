import { Rng } from '../data/rng';

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Seeds the resampling, so a report is the same every time it is built. */
  seed?: number;
  /** Two-sided coverage (default 0.95). */
  level?: number;
}

export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * Percentile bootstrap interval of the mean of `values` (Efron 1979): resample the n values with replacement,
 * take each resample's mean, report the (1 - level)/2 and (1 + level)/2 quantiles. Deterministic for a seed.
 * For per-image correctness (0/1, or a per-image mean over re-pairings) this is the interval over test images;
 * for paired differences (same image, two conditions) it is the paired bootstrap.
 */
export function bootstrapMean(
  values: ArrayLike<number>,
  opts: BootstrapOptions = {},
): { mean: number; lo: number; hi: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const b = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 1);
  const means = new Float64Array(b);
  for (let r = 0; r < b; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rng.next() * n)]!;
    means[r] = s / n;
  }
  means.sort();
  return { mean: sum / n, lo: quantile(means, (1 - level) / 2), hi: quantile(means, (1 + level) / 2) };
}

/** Quantile of sorted values, linear between order statistics (numpy's default, "type 7"). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Percentile bootstrap interval of any statistic of n items (e.g. a ratio of two means over the same items):
 * `statistic` receives the resampled indices. Slower than bootstrapMean; for small n (saliency grids).
 */
export function bootstrapStatistic(
  n: number,
  statistic: (indices: ArrayLike<number>) => number,
  opts: BootstrapOptions = {},
): { value: number; lo: number; hi: number } {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const value = statistic(all);
  if (n === 0) return { value, lo: NaN, hi: NaN };
  const b = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 1);
  const stats: number[] = [];
  const idx = new Int32Array(n);
  for (let r = 0; r < b; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng.next() * n);
    const s = statistic(idx);
    if (Number.isFinite(s)) stats.push(s);
  }
  const sorted = Float64Array.from(stats).sort();
  if (sorted.length === 0) return { value, lo: NaN, hi: NaN };
  return { value, lo: quantile(sorted, (1 - level) / 2), hi: quantile(sorted, (1 + level) / 2) };
}
