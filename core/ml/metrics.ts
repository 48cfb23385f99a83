/** Index of the largest logit of row `i` (ties: the lowest index, as argmax everywhere). */
export function argmaxRow(logits: Float32Array, k: number, i: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
  return best;
}

/** Softmax cross-entropy of row `i` against `label`, computed stably (log-sum-exp) in float64. */
export function crossEntropyRow(logits: Float32Array, k: number, i: number, label: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, logits[i * k + j]!);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(logits[i * k + j]! - max);
  return Math.log(sum) + max - logits[i * k + label]!;
}

/** confusion[true][predicted] counts. */
export type ConfusionMatrix = number[][];

export function emptyConfusion(k: number): ConfusionMatrix {
  return Array.from({ length: k }, () => new Array<number>(k).fill(0));
}

export function accuracyOf(confusion: ConfusionMatrix): number {
  let hits = 0;
  let total = 0;
  confusion.forEach((row, i) => {
    hits += row[i]!;
    total += row.reduce((a, b) => a + b, 0);
  });
  return total ? hits / total : 0;
}

export interface ClassAccuracy {
  class: string;
  n: number;
  correct: number;
  /** correct / n; null when the class has no samples (an absent class has no accuracy, not 0). */
  accuracy: number | null;
}

export function perClassAccuracy(confusion: ConfusionMatrix, classes: string[]): ClassAccuracy[] {
  return confusion.map((row, i) => {
    const n = row.reduce((a, b) => a + b, 0);
    return { class: classes[i] ?? String(i), n, correct: row[i]!, accuracy: n ? row[i]! / n : null };
  });
}

/** Xiao et al.'s BG-Gap: how much accuracy a model loses when the background stops matching the class. */
export function bgGap(accMixedSame: number, accMixedRand: number): number {
  return accMixedSame - accMixedRand;
}
