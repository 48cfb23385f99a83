import * as tf from '@tensorflow/tfjs';
import type { Sample, SampleSource } from '../data/sample';
import { argmaxRow } from './metrics';
import { sampleMask, samplePixels } from './pixels';

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

/** Gradient saliency of each sample's true-class logit w.r.t. its input pixels (inference mode). */
export async function saliencyMaps(
  model: tf.LayersModel,
  samples: Sample[],
  size: number,
): Promise<SaliencyOutcome> {
  const items: SaliencyItem[] = [];
  const k = (model.outputs[0]!.shape[1] as number) ?? 0;
  const px = size * size * 3;
  const chunk = 16;
  for (let start = 0; start < samples.length; start += chunk) {
    const group = samples.slice(start, start + chunk);
    const x = new Float32Array(group.length * px);
    group.forEach((s, i) => x.set(samplePixels(s, size), i * px));
    const [grad, logits] = tf.tidy(() => {
      const input = tf.tensor4d(x, [group.length, size, size, 3]);
      const onehot = tf.oneHot(
        tf.tensor1d(
          group.map((s) => s.label),
          'int32',
        ),
        k,
      );
      // Each image's own class score; in inference mode images do not interact, so one sum gives per-image gradients.
      const score = (t: tf.Tensor) =>
        (model.apply(t, { training: false }) as tf.Tensor).mul(onehot).sum<tf.Scalar>();
      return [tf.grad(score)(input), model.apply(input, { training: false }) as tf.Tensor];
    });
    const [g, l] = [(await grad.data()) as Float32Array, (await logits.data()) as Float32Array];
    tf.dispose([grad, logits]);
    group.forEach((s, i) => {
      const sal = saliencyFromGradient(g.subarray(i * px, (i + 1) * px), size);
      const mask = sampleMask(s, size);
      const max = sal.reduce((a, b) => Math.max(a, b), 0);
      items.push({
        id: s.id,
        label: s.label,
        predicted: argmaxRow(l, k, i),
        share: mask ? saliencyShare(sal, mask) : null,
        maskArea: mask ? mask.reduce((a, b) => a + b, 0) / mask.length : null,
        map: Array.from(sal, (v) => (max > 0 ? Math.round((v / max) * 255) : 0)),
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
