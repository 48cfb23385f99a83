import type { Sample } from '../data/sample';
import type { Rng } from '../data/rng';

/** How training images are perturbed; evaluation never augments. */
export interface AugmentSpec {
  /** Random translation by up to this many pixels in x and y, edges replicated (the "pad and crop" of CIFAR training). */
  shift: number;
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
}

/** A sample's RGB as float32 in [0, 1] at `size` x `size` (bilinear, half-pixel centers like tf.image.resizeBilinear). */
export function samplePixels(sample: Sample, size: number): Float32Array {
  const { width: w, height: h, rgb } = sample;
  if (rgb.length !== w * h * 3)
    throw new Error(`sample ${sample.id}: rgb has ${rgb.length} bytes, expected ${w}x${h}x3`);
  const out = new Float32Array(size * size * 3);
  if (w === size && h === size) {
    for (let i = 0; i < out.length; i++) out[i] = rgb[i]! / 255;
    return out;
  }
  const sx = w / size;
  const sy = h / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = rgb[(y0 * w + x0) * 3 + c]! * (1 - wx) + rgb[(y0 * w + x1) * 3 + c]! * wx;
        const b = rgb[(y1 * w + x0) * 3 + c]! * (1 - wx) + rgb[(y1 * w + x1) * 3 + c]! * wx;
        out[(y * size + x) * 3 + c] = (a * (1 - wy) + b * wy) / 255;
      }
    }
  }
  return out;
}

/** A sample's mask as float32 in [0, 1] at `size` x `size` (nearest neighbour), or undefined without a mask. */
export function sampleMask(sample: Sample, size: number): Float32Array | undefined {
  const { width: w, height: h, mask } = sample;
  if (!mask) return undefined;
  if (mask.length !== w * h)
    throw new Error(`sample ${sample.id}: mask has ${mask.length} bytes, expected ${w}x${h}`);
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const yy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / size));
    for (let x = 0; x < size; x++)
      out[y * size + x] = mask[yy * w + Math.min(w - 1, Math.floor(((x + 0.5) * w) / size))]! / 255;
  }
  return out;
}

/** Random shift and flip of one HWC image, drawing exactly three numbers from `rng` (flip, dx, dy). */
export function augment(img: Float32Array, size: number, spec: AugmentSpec, rng: Rng): Float32Array {
  const flip = spec.flip && rng.next() < 0.5;
  const dx = rng.intIn(-spec.shift, spec.shift);
  const dy = rng.intIn(-spec.shift, spec.shift);
  if (!flip && dx === 0 && dy === 0) return img;
  const out = new Float32Array(img.length);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(size - 1, Math.max(0, y + dy));
    for (let x = 0; x < size; x++) {
      const sx0 = Math.min(size - 1, Math.max(0, x + dx));
      const sx = flip ? size - 1 - sx0 : sx0;
      for (let c = 0; c < 3; c++) out[(y * size + x) * 3 + c] = img[(sy * size + sx) * 3 + c]!;
    }
  }
  return out;
}
