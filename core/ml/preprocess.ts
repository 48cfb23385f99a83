import { z } from 'zod';
import type { Sample } from '../data/sample';
import { sampleMask, samplePixels } from './pixels';

/** ImageNet statistics, as torchvision and the backgrounds challenge's `InputNormalize` use them. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

const triple = z.tuple([z.number(), z.number(), z.number()]);

/**
 * How a pretrained model wants its input, declared with the model rather than guessed. Two stages:
 * geometry (`resizeShorter` + center crop, or a plain resize to `inputSize`) gives the "view" every evaluation
 * composites and occludes in (NHWC, [0, 1]); then `toModelInput` scales, normalizes and lays it out.
 */
export const preprocessSchema = z
  .object({
    /** Side of the square the model sees. */
    inputSize: z.number().int().min(8).max(1024),
    /**
     * Resize the shorter side to this (aspect kept, PIL-style antialiased bilinear) then center-crop
     * `inputSize` (torchvision's Resize(256) + CenterCrop(224)). Absent: resize straight to `inputSize`
     * (IN-9's 224 px images then pass untouched, as in the reference's ToTensor-only pipeline).
     */
    resizeShorter: z.number().int().min(8).max(4096).optional(),
    /** Per-channel (RGB) mean and std applied after scaling to `range`; (x / 255 * range - mean) / std. */
    mean: triple.default([0, 0, 0]),
    std: triple.default([1, 1, 1]).refine((s) => s.every((v) => v > 0), 'std must be positive'),
    /** Pixel scale before normalization: 1 (ToTensor) or 255 (raw bytes, e.g. Keras applications). */
    range: z.union([z.literal(1), z.literal(255)]).default(1),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
  })
  .strict();

export type Preprocess = z.output<typeof preprocessSchema>;

/** Named policies: `torchvision` (ImageNet eval transform), `in9` (the reference's: ToTensor + ImageNet normalization). */
export const PREPROCESS_PRESETS = {
  torchvision: {
    inputSize: 224,
    resizeShorter: 256,
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
    range: 1,
    layout: 'NCHW',
  },
  in9: { inputSize: 224, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD], range: 1, layout: 'NCHW' },
} as const satisfies Record<string, Preprocess>;

/** A preset name, or an object (optionally `{ preset, ...overrides }`); errors name the field inside it. */
export const preprocessEntrySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { preset: v } : v),
  z
    .object({ preset: z.enum(['torchvision', 'in9']).optional() })
    .passthrough()
    .transform((o, ctx) => {
      const { preset, ...rest } = o;
      const parsed = preprocessSchema.safeParse({ ...(preset ? PREPROCESS_PRESETS[preset] : {}), ...rest });
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', path: issue.path });
      return z.NEVER;
    }),
);

/** Output size of torchvision's Resize(shorter) for a w x h image: the long side truncated, as torchvision does. */
export function shorterSideSize(w: number, h: number, shorter: number): { w: number; h: number } {
  return w <= h
    ? { w: shorter, h: Math.floor((shorter * h) / w) }
    : { w: Math.floor((shorter * w) / h), h: shorter };
}

const PRECISION = 2 ** 22;

/**
 * PIL's antialiased bilinear resample along one axis (ImagingResample: a triangle filter widened by the
 * downscale factor, weights normalized per output pixel), rounding to 8 bits after the pass as PIL does.
 */
function resampleAxis(
  src: Float32Array,
  inLen: number,
  outLen: number,
  lines: number,
  stride: number,
  lineStride: number,
  channels: number,
  outStride: number,
  outLineStride: number,
): Float32Array {
  const out = new Float32Array(lines * outLen * channels);
  const scale = inLen / outLen;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  for (let o = 0; o < outLen; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inLen, Math.trunc(center + support + 0.5));
    const w: number[] = [];
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const t = Math.abs((i - center + 0.5) / filterScale);
      const v = t < 1 ? 1 - t : 0;
      w.push(v);
      sum += v;
    }
    // PIL's 8-bit path: weights in 22-bit fixed point, accumulator starting at one half, then shifted.
    const fixed = w.map((v) => Math.trunc(0.5 + (sum ? v / sum : 0) * PRECISION));
    for (let l = 0; l < lines; l++) {
      for (let c = 0; c < channels; c++) {
        let acc = PRECISION / 2;
        for (let i = lo; i < hi; i++) acc += src[l * lineStride + i * stride + c]! * fixed[i - lo]!;
        out[l * outLineStride + o * outStride + c] = Math.min(255, Math.max(0, Math.floor(acc / PRECISION)));
      }
    }
  }
  return out;
}

/** PIL Image.resize(BILINEAR) of an 8-bit HWC image: horizontal pass, then vertical (both rounded to bytes). */
export function resizeBilinearAA(
  src: Uint8Array | Float32Array,
  w: number,
  h: number,
  ow: number,
  oh: number,
  channels: number,
): Float32Array {
  const f = src instanceof Float32Array ? src : Float32Array.from(src);
  const horiz =
    ow === w ? f : resampleAxis(f, w, ow, h, channels, w * channels, channels, channels, ow * channels);
  if (oh === h) return horiz;
  return resampleAxis(horiz, h, oh, ow, ow * channels, channels, channels, ow * channels, channels);
}

/** torchvision CenterCrop's origin: round((size - crop) / 2) (Python rounds halves to even). */
function cropOrigin(size: number, crop: number): number {
  const x = (size - crop) / 2;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function centerCrop(img: Float32Array, w: number, h: number, c: number, size: number): Float32Array {
  if (w < size || h < size) throw new Error(`center crop ${size} of a ${w}x${h} image`);
  const top = cropOrigin(h, size);
  const left = cropOrigin(w, size);
  const out = new Float32Array(size * size * c);
  for (let y = 0; y < size; y++)
    out.set(img.subarray(((top + y) * w + left) * c, ((top + y) * w + left + size) * c), y * size * c);
  return out;
}

/** A sample's RGB as the model's geometry sees it: NHWC float32 in [0, 1] at `inputSize`. */
export function viewPixels(sample: Sample, pp: Preprocess): Float32Array {
  if (pp.resizeShorter === undefined) return samplePixels(sample, pp.inputSize);
  const { w, h } = shorterSideSize(sample.width, sample.height, pp.resizeShorter);
  const img = resizeBilinearAA(sample.rgb, sample.width, sample.height, w, h, 3);
  const out = centerCrop(img, w, h, 3, pp.inputSize);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / 255;
  return out;
}

/** The sample's mask under the same geometry, in [0, 1] (soft at resized edges), or undefined without one. */
export function viewMask(sample: Sample, pp: Preprocess): Float32Array | undefined {
  if (pp.resizeShorter === undefined) return sampleMask(sample, pp.inputSize);
  if (!sample.mask) return undefined;
  const { w, h } = shorterSideSize(sample.width, sample.height, pp.resizeShorter);
  const m = centerCrop(
    resizeBilinearAA(sample.mask, sample.width, sample.height, w, h, 1),
    w,
    h,
    1,
    pp.inputSize,
  );
  for (let i = 0; i < m.length; i++) m[i] = m[i]! / 255;
  return m;
}

/** n views (NHWC, [0, 1]) -> the model's input tensor data: scaled to `range`, normalized, in `layout`. */
export function toModelInput(x: Float32Array, n: number, pp: Preprocess): Float32Array {
  const s = pp.inputSize;
  const hw = s * s;
  const out = new Float32Array(n * hw * 3);
  const scale = pp.range;
  for (let b = 0; b < n; b++) {
    const base = b * hw * 3;
    for (let p = 0; p < hw; p++) {
      for (let c = 0; c < 3; c++) {
        const v = (x[base + p * 3 + c]! * scale - pp.mean[c]!) / pp.std[c]!;
        out[pp.layout === 'NHWC' ? base + p * 3 + c : base + c * hw + p] = v;
      }
    }
  }
  return out;
}

/** The tensor shape of n inputs. */
export function inputDims(n: number, pp: Preprocess): number[] {
  const s = pp.inputSize;
  return pp.layout === 'NCHW' ? [n, 3, s, s] : [n, s, s, 3];
}
