import type { Sample } from '../data/sample';
import type { Classifier } from './classifier';
import { argmaxRow } from './metrics';
import { type SaliencyItem, type SaliencyOutcome, saliencyShare, summarizeSaliency } from './saliency';

export interface OcclusionOptions {
  /** Patches per side (the window is inputSize / grid, stride = window). */
  grid?: number;
  /** Value a patch is filled with (views are in [0, 1]; 0.5 is mid-gray). */
  fill?: number;
  /** Occluded images per forward pass. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Softmax probability of column `c` in row `i` of an n x m score matrix (stable; -Infinity columns count 0). */
function probability(scores: Float32Array, m: number, i: number, c: number): number {
  let max = -Infinity;
  for (let j = 0; j < m; j++) max = Math.max(max, scores[i * m + j]!);
  let sum = 0;
  for (let j = 0; j < m; j++) sum += Math.exp(scores[i * m + j]! - max);
  return Math.exp(scores[i * m + c]! - max) / sum;
}

/**
 * Occlusion saliency (Zeiler & Fergus 2014) for models without input gradients (ONNX, tfjs graph models):
 * each pixel's value is how much the true class's probability drops when a gray patch covers it (clamped at
 * 0). The map is summarized exactly like gradient saliency (share of mass inside the foreground mask), so every
 * model gets the same report columns; the numbers are comparable across models, not across the two methods.
 */
export async function occlusionSaliency(
  classifier: Classifier,
  samples: Sample[],
  opts: OcclusionOptions = {},
): Promise<SaliencyOutcome> {
  const size = classifier.inputSize;
  const m = classifier.numScores;
  const grid = Math.min(opts.grid ?? 8, size);
  const win = Math.ceil(size / grid);
  const fill = opts.fill ?? 0.5;
  const batch = opts.batchSize ?? 32;
  const px = size * size * 3;
  const patches: [number, number][] = [];
  for (let y = 0; y < size; y += win) for (let x = 0; x < size; x += win) patches.push([x, y]);
  const items: SaliencyItem[] = [];
  for (const [idx, s] of samples.entries()) {
    opts.signal?.throwIfAborted();
    const img = classifier.view(s);
    const base = await classifier.predict(img, 1);
    const p0 = probability(base, m, 0, s.label);
    const sal = new Float32Array(size * size);
    const x = new Float32Array(batch * px);
    for (let start = 0; start < patches.length; start += batch) {
      const group = patches.slice(start, start + batch);
      group.forEach(([px0, py0], j) => {
        const o = x.subarray(j * px, (j + 1) * px);
        o.set(img);
        for (let y = py0; y < Math.min(size, py0 + win); y++)
          o.fill(fill, (y * size + px0) * 3, (y * size + Math.min(size, px0 + win)) * 3);
      });
      const scores = await classifier.predict(x.subarray(0, group.length * px), group.length);
      group.forEach(([px0, py0], j) => {
        const drop = Math.max(0, p0 - probability(scores, m, j, s.label));
        for (let y = py0; y < Math.min(size, py0 + win); y++)
          sal.fill(drop, y * size + px0, y * size + Math.min(size, px0 + win));
      });
    }
    const mask = classifier.viewMask(s);
    const max = sal.reduce((a, b) => Math.max(a, b), 0);
    items.push({
      id: s.id,
      label: s.label,
      predicted: argmaxRow(base, m, 0),
      share: mask ? saliencyShare(sal, mask) : null,
      maskArea: mask ? mask.reduce((a, b) => a + b, 0) / mask.length : null,
      map: Array.from(sal, (v) => (max > 0 ? Math.round((v / max) * 255) : 0)),
    });
    await opts.onProgress?.(idx + 1, samples.length);
  }
  return summarizeSaliency(size, items);
}
