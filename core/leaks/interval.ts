/** Wilson score interval for a binomial proportion (95% by default): honest near 0 and 1, unlike p ± 2 SE. */
export function wilsonInterval(successes: number, n: number, z = 1.96): [lo: number, hi: number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
