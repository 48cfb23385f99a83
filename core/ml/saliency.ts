import * as tf from '@tensorflow/tfjs';
import type { Sample, SampleSource } from '../data/sample';
import { argmaxRow } from './metrics';
import { sampleMask, samplePixels } from './pixels';
import { Rng } from '../data/rng';
import { tfjsInputGradients } from './classifier';

/** |gradient| max over channels: one saliency value per pixel (Simonyan et al. 2014), HWC in, HW out. */
export function saliencyFromGradient(grad: Float32Array, size: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let p = 0; p < out.length; p++) {
    out[p] = Math.max(Math.abs(grad[p * 3]!), Math.abs(grad[p * 3 + 1]!), Math.abs(grad[p * 3 + 2]!));
  }
  return out;
}

/** Share of the saliency mass inside the foreground mask (mask in [0, 1]); null when the map is all zero. */
export function saliencyShare(saliency: Float32Array, mask: Float32Array): number | null {
  let inside = 0;
  let total = 0;
  for (let p = 0; p < saliency.length; p++) {
    inside += saliency[p]! * mask[p]!;
    total += saliency[p]!;
  }
  return total > 0 ? inside / total : null;
}

/** The fixed sample grid: the first `perClass` samples of every class, in the source's stored order. */
export async function sampleGrid(
  source: SampleSource,
  numClasses: number,
  perClass: number,
): Promise<Sample[]> {
  const taken = new Array<number>(numClasses).fill(0);
  const out: Sample[] = [];
  for await (const s of source.iterate()) {
    if (s.label >= 0 && s.label < numClasses && taken[s.label]! < perClass) {
      taken[s.label]!++;
      out.push(s);
      if (out.length === numClasses * perClass) break;
    }
  }
  return out;
}

export interface SaliencyItem {
  id: string;
  label: number;
  predicted: number;
  /** Saliency inside the mask / all saliency; null without a mask or with an all-zero map. */
  share: number | null;
  /** Fraction of the image the mask covers: the share a uniform map would get (the chance baseline). */
  maskArea: number | null;
  /** size x size, row-major, scaled so the map's maximum is 255. */
  map: number[];
}

export interface SaliencyOutcome {
  size: number;
  items: SaliencyItem[];
  /** Mean share over items with a mask; null when none has one. */
  meanShare: number | null;
  meanMaskArea: number | null;
}

/**
 * SmoothGrad (Smilkov et al. 2017): the saliency map averaged over `samples` copies of the input with Gaussian
 * noise of standard deviation `sigma` (in [0, 1] pixel units; the paper's 10-20% of the input range). Vanilla
 * gradients of a ReLU network jump from pixel to pixel; the average keeps what is stable under small changes.
 */
export interface SmoothGradOptions {
  samples: number;
  sigma: number;
  /** Seeds the noise, so a map is the same every time. */
  seed: number;
}

/** The default where gradients exist: 16 noisy copies at sigma 0.15 (cost: 16 backward passes per map). */
export const SMOOTHGRAD_DEFAULT: SmoothGradOptions = { samples: 16, sigma: 0.15, seed: 1 };

/** Standard normal draws (Box-Muller) from a seeded stream. */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** What gradient saliency needs of a model: its scores and their input gradients (a Classifier has both). */
export interface GradientModel {
  numScores: number;
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  inputGradients(x: Float32Array, n: number, labels: Int32Array): Promise<Float32Array>;
}

/** A tfjs model taking NHWC images at `size` as a GradientModel. */
function tfjsGradientModel(model: tf.LayersModel, size: number): GradientModel {
  return {
    numScores: model.outputs[0]!.shape[1] as number,
    predict: async (x, n) => {
      const out = tf.tidy(
        () => model.apply(tf.tensor4d(x, [n, size, size, 3]), { training: false }) as tf.Tensor,
      );
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    },
    inputGradients: (x, n, labels) => tfjsInputGradients(model, x, n, size, labels),
  };
}

/**
 * Gradient saliency of each sample's true-class logit w.r.t. its input pixels (inference mode), on whichever
 * engine runs the model (a tfjs model, or a Classifier with input gradients: tfjs or libtorch); with
 * `smoothGrad`, averaged over noisy copies of the input. Predictions are always those of the clean input.
 */
export async function saliencyMaps(
  model: tf.LayersModel | GradientModel,
  samples: Sample[],
  size: number,
  opts: { smoothGrad?: SmoothGradOptions } = {},
): Promise<SaliencyOutcome> {
  const m = 'inputGradients' in model ? model : tfjsGradientModel(model, size);
  const items: SaliencyItem[] = [];
  const k = m.numScores;
  const px = size * size * 3;
  const chunk = 16;
  const sg = opts.smoothGrad;
  const rng = new Rng(sg?.seed ?? 1);
  for (let start = 0; start < samples.length; start += chunk) {
    const group = samples.slice(start, start + chunk);
    const x = new Float32Array(group.length * px);
    group.forEach((s, i) => x.set(samplePixels(s, size), i * px));
    const labels = Int32Array.from(group, (s) => s.label);
    const sal = group.map(() => new Float32Array(size * size));
    const passes = sg ? sg.samples : 1;
    for (let r = 0; r < passes; r++) {
      const input = sg ? Float32Array.from(x, (v) => v + sg.sigma * gaussian(rng)) : x;
      const g = await m.inputGradients(input, group.length, labels);
      group.forEach((_, i) => {
        const map = saliencyFromGradient(g.subarray(i * px, (i + 1) * px), size);
        const acc = sal[i]!;
        for (let p = 0; p < acc.length; p++) acc[p]! += map[p]! / passes;
      });
    }
    const l = await m.predict(x, group.length);
    group.forEach((s, i) => {
      const map = sal[i]!;
      const mask = sampleMask(s, size);
      const max = map.reduce((a, b) => Math.max(a, b), 0);
      items.push({
        id: s.id,
        label: s.label,
        predicted: argmaxRow(l, k, i),
        share: mask ? saliencyShare(map, mask) : null,
        maskArea: mask ? mask.reduce((a, b) => a + b, 0) / mask.length : null,
        map: Array.from(map, (v) => (max > 0 ? Math.round((v / max) * 255) : 0)),
      });
    });
  }
  return summarizeSaliency(size, items);
}

/** The per-map items and their means (items without a mask do not count). */
export function summarizeSaliency(size: number, items: SaliencyItem[]): SaliencyOutcome {
  const mean = (vals: (number | null)[]) => {
    const v = vals.filter((a): a is number => a !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    size,
    items,
    meanShare: mean(items.map((i) => i.share)),
    meanMaskArea: mean(items.map((i) => i.maskArea)),
  };
}
