/**
 * Exact paired permutation (sign-flip) test with integer scores. Under H0 (the two conditions are exchangeable
 * for each item) each non-zero difference d_i is +|d_i| or -|d_i| with probability 1/2, independently; the
 * statistic is S = Σ d_i. Its null distribution is computed exactly by convolution (no Monte Carlo), so the
 * p-value is deterministic. With d_i in {-1, 0, 1} (one correct/incorrect outcome per condition) this is
 * McNemar's exact test: the discordant pairs are Binomial(b + c, 1/2).
 *
 * Returns the two-sided mid-p value (Lancaster 1961: half the probability of the observed value counts), which
 * Fagerland et al. (2013) recommend for McNemar over the conservative exact p, and the exact p beside it.
 */
export function signFlipTest(differences: ArrayLike<number>): {
  midP: number;
  exactP: number;
  discordant: number;
} {
  const a: number[] = [];
  let observed = 0;
  for (let i = 0; i < differences.length; i++) {
    const d = differences[i]!;
    if (!Number.isInteger(d)) throw new Error(`signFlipTest: difference ${d} is not an integer`);
    if (d !== 0) {
      a.push(Math.abs(d));
      if (d > 0) observed += d;
    }
  }
  const total = a.reduce((x, y) => x + y, 0);
  // T = sum of the |d_i| that came out positive; S = 2T - total. dist[t] = P(T = t).
  const dist = new Float64Array(total + 1);
  dist[0] = 1;
  let reach = 0;
  for (const w of a) {
    reach += w;
    // In place, from the top: P'(t) = (P(t) + P(t - w)) / 2.
    for (let t = reach; t >= 0; t--) dist[t] = 0.5 * (dist[t]! + (t >= w ? dist[t - w]! : 0));
  }
  let below = 0;
  let above = 0;
  for (let t = 0; t <= total; t++) {
    if (t < observed) below += dist[t]!;
    else if (t > observed) above += dist[t]!;
  }
  const at = dist[observed]!;
  const midP = Math.min(1, 2 * Math.min(below + at / 2, above + at / 2));
  const exactP = Math.min(1, 2 * Math.min(below + at, above + at));
  return { midP, exactP, discordant: a.length };
}

/** McNemar's exact test on the discordant counts b (only the first condition right) and c (only the second). */
export function mcnemarExact(b: number, c: number): { midP: number; exactP: number } {
  const d = [...new Array<number>(b).fill(1), ...new Array<number>(c).fill(-1)];
  const { midP, exactP } = signFlipTest(d);
  return { midP, exactP };
}
