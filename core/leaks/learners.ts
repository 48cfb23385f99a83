/**
 * Two strong, simple learners for the leak check: multinomial logistic regression and k nearest neighbours,
 * both on standardized features (train statistics). Deterministic: no random initialisation or order.
 */
export type Matrix = Float64Array[];

export interface Standardizer {
  apply(x: number[]): Float64Array;
}

export function fitStandardizer(rows: number[][]): Standardizer {
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) sd[j]! += (r[j]! - mean[j]!) ** 2 / rows.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  return { apply: (x) => Float64Array.from(x, (v, j) => (v - mean[j]!) / sd[j]!) };
}

/** Multinomial logistic regression, L2 penalty `lambda`, full-batch gradient descent with Nesterov momentum. */
export function fitLogistic(
  x: Matrix,
  y: number[],
  classes: number,
  { iterations = 120, learningRate = 0.5, lambda = 1e-3 } = {},
): (x: Float64Array) => number {
  const n = x.length;
  const d = (x[0]?.length ?? 0) + 1; // + bias
  const w = new Float64Array(classes * d);
  const v = new Float64Array(classes * d);
  const grad = new Float64Array(classes * d);
  const look = new Float64Array(classes * d);
  const p = new Float64Array(classes);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < w.length; i++) look[i] = w[i]! + 0.9 * v[i]!;
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      scores(look, xi, classes, d, p);
      softmaxInPlace(p);
      p[y[i]!]! -= 1;
      for (let k = 0; k < classes; k++) {
        const g = p[k]! / n;
        const o = k * d;
        for (let j = 0; j < d - 1; j++) grad[o + j]! += g * xi[j]!;
        grad[o + d - 1]! += g;
      }
    }
    for (let i = 0; i < w.length; i++) {
      const g = grad[i]! + ((i + 1) % d === 0 ? 0 : lambda * look[i]!);
      v[i] = 0.9 * v[i]! - learningRate * g;
      w[i]! += v[i]!;
    }
  }
  return (xi) => {
    scores(w, xi, classes, d, p);
    return argmax(p);
  };
}

function scores(w: Float64Array, xi: Float64Array, classes: number, d: number, out: Float64Array): void {
  for (let k = 0; k < classes; k++) {
    const o = k * d;
    let s = w[o + d - 1]!;
    for (let j = 0; j < d - 1; j++) s += w[o + j]! * xi[j]!;
    out[k] = s;
  }
}

function softmaxInPlace(p: Float64Array): void {
  let max = -Infinity;
  for (const v of p) max = Math.max(max, v);
  let sum = 0;
  for (let k = 0; k < p.length; k++) sum += p[k] = Math.exp(p[k]! - max);
  for (let k = 0; k < p.length; k++) p[k] = p[k]! / sum;
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

/** k nearest neighbours (Euclidean), majority vote; a tie goes to the class of the nearest tied neighbour. */
export function fitKnn(x: Matrix, y: number[], classes: number, k: number): (x: Float64Array) => number {
  const kk = Math.max(1, Math.min(k, x.length));
  return (q) => {
    const dist = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      let s = 0;
      for (let j = 0; j < q.length; j++) s += (xi[j]! - q[j]!) ** 2;
      dist[i] = s;
    }
    // the k smallest distances by insertion into a short sorted list (k << n)
    const order: number[] = [];
    for (let i = 0; i < x.length; i++) {
      if (order.length === kk && dist[i]! >= dist[order[kk - 1]!]!) continue;
      let at = order.length === kk ? kk - 1 : order.length;
      while (at > 0 && dist[order[at - 1]!]! > dist[i]!) {
        order[at] = order[at - 1]!;
        at--;
      }
      order[at] = i;
      if (order.length > kk) order.length = kk;
    }
    const votes = new Array<number>(classes).fill(0);
    for (const i of order) votes[y[i]!]!++;
    const top = Math.max(...votes);
    return y[order.find((i) => votes[y[i]!] === top)!]!;
  };
}
