/**
 * core/stats against values computed independently: published textbook examples (Newcombe 1998 for Wilson,
 * Fagerland et al. 2013 for McNemar), binomial sums written out by hand, a brute-force enumeration of every sign
 * pattern, and the large-sample normal approximation for the bootstrap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapMean, quantile } from '../../core/stats/bootstrap';
import { meanInterval, tQuantile975, wilsonInterval } from '../../core/stats/intervals';
import { mcnemarExact, signFlipTest } from '../../core/stats/paired-test';

const near = (got: number, want: number, tol: number, what: string) =>
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want} ± ${tol}`);

void test('Wilson interval matches Newcombe (1998), Table II, method 3', () => {
  // [k, n, lower, upper] as printed (4 decimals)
  const cases: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [k, n, lo, hi] of cases) {
    const w = wilsonInterval(k, n);
    near(w.lo, lo, 0.00006, `${k}/${n} lower`);
    near(w.hi, hi, 0.00006, `${k}/${n} upper`);
  }
  // all correct: the upper bound is 1, the lower is n / (n + z²)
  const all = wilsonInterval(10, 10);
  near(all.hi, 1, 1e-12, '10/10 upper');
  near(all.lo, 10 / (10 + 1.959964 ** 2), 1e-6, '10/10 lower');
});

void test('McNemar exact and mid-p match Fagerland et al. (2013): b = 1, c = 7', () => {
  // Binomial(8, 1/2): P(X <= 1) = 9/256, P(X = 1) = 8/256
  const r = mcnemarExact(1, 7);
  near(r.exactP, (2 * 9) / 256, 1e-12, 'exact p (0.070 in the paper)');
  near(r.midP, 2 * (1 / 256 + 4 / 256), 1e-12, 'mid-p (0.039 in the paper)');
  // symmetric, and no discordant pairs means no evidence at all
  assert.deepEqual(mcnemarExact(7, 1), r);
  assert.equal(mcnemarExact(0, 0).midP, 1);
  assert.equal(mcnemarExact(5, 5).exactP, 1);
});

void test('sign-flip test equals a brute-force enumeration of every sign pattern', () => {
  const d = [3, -1, 2, 0, 0, 1, -2, 2];
  const nz = d.filter((x) => x !== 0);
  const obs = nz.reduce((a, b) => a + b, 0);
  let le = 0;
  let ge = 0;
  let eq = 0;
  const m = nz.length;
  for (let mask = 0; mask < 1 << m; mask++) {
    const s = nz.reduce((acc, x, i) => acc + (mask & (1 << i) ? Math.abs(x) : -Math.abs(x)), 0);
    if (s <= obs) le++;
    if (s >= obs) ge++;
    if (s === obs) eq++;
  }
  const total = 1 << m;
  const r = signFlipTest(d);
  assert.equal(r.discordant, m);
  near(r.exactP, Math.min(1, (2 * Math.min(le, ge)) / total), 1e-12, 'exact p');
  near(r.midP, Math.min(1, (2 * (Math.min(le, ge) - eq / 2)) / total), 1e-12, 'mid-p');
  assert.throws(() => signFlipTest([0.5]), /not an integer/);
});

void test('bootstrap interval of a proportion agrees with the normal approximation at large n', () => {
  const n = 2000;
  const p = 0.8;
  const v = Array.from({ length: n }, (_, i) => (i < p * n ? 1 : 0));
  const b = bootstrapMean(v, { seed: 7 });
  const half = 1.96 * Math.sqrt((p * (1 - p)) / n);
  assert.equal(b.mean, p);
  near(b.lo, p - half, 0.003, 'lower');
  near(b.hi, p + half, 0.003, 'upper');
  // deterministic for a seed, different for another
  assert.deepEqual(bootstrapMean(v, { seed: 7 }), b);
  assert.notDeepEqual(bootstrapMean(v, { seed: 8 }), b);
  // no spread, no interval
  assert.deepEqual(bootstrapMean([1, 1, 1]), { mean: 1, lo: 1, hi: 1 });
});

void test('quantile interpolates between order statistics like numpy', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([10, 20, 30], 0.25), 15);
  assert.equal(quantile([5], 0.975), 5);
});

void test('t interval over seeds: mean ± t(n-1) sd / sqrt(n) with a textbook t', () => {
  // values 0.7, 0.8, 0.9: mean 0.8, sd 0.1, t(2) = 4.303
  const r = meanInterval([0.7, 0.8, 0.9]);
  near(r.value, 0.8, 1e-12, 'mean');
  near(r.sd, 0.1, 1e-12, 'sd');
  near(r.hi - r.value, (4.303 * 0.1) / Math.sqrt(3), 1e-9, 'half width');
  assert.equal(tQuantile975(1), 12.706);
  near(tQuantile975(60), 2.0, 0.002, 't(60)');
  const one = meanInterval([0.5]);
  assert.equal(one.lo, 0.5);
  assert.match(one.method, /no interval/);
});
