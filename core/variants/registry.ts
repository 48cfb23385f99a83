import { z } from 'zod';
import { maskedGaussianBlur } from './blur';
import { bboxMask, dilateMask, erodeMask } from './morphology';
import {
  bgColorOf,
  keepWhere,
  onlyBgB,
  onlyBgT,
  pasteForeground,
  type RawImage,
  reducedRadiusPx,
  resizeNearest,
  solidBackground,
} from './ops';
import { PALETTE, type PaletteColor } from './palette';

/**
 * Every variant, once: its parameters (a zod schema), whether it is paired with a donor image, how it changes
 * the pixels, how a sweep over it is plotted and what the report says about it. The lists in variant-spec.ts,
 * `applyVariant`, the report's sections (core/report/experiments.ts) and `bgstudy variants list` derive from
 * it, so adding a variant is one entry here (and its tests).
 */

/** A report section of its own: the factor this variant varies. */
export interface VariantSection {
  title: string;
  /** What the paper or the slides reported, to read our numbers against. */
  claim: string;
  /** Compare training variants on original and on this one (else: trained on original vs on the variant). */
  crossTrained?: boolean;
  /** Reference lines: a run trained and tested on `train`. Default: the original-trained run. */
  bounds?: { label: string; train: string }[];
}

interface Entry<N extends string, P extends z.ZodType | null> {
  name: N;
  /** What it does to an image, for `bgstudy variants list`. */
  definition: string;
  /** The object form `{ name, ...params }`; null when the variant has no parameters (a bare name). */
  params: P;
  /** Paired variants paste onto a donor's background: drawn from the same split, or the class-free pool. */
  pairing: 'none' | 'split' | 'generic';
  /** One of the eight folders of Xiao et al.'s ImageNet-9 release. */
  upstream: boolean;
  apply: (spec: SpecOf<N, P>, src: RawImage, donor?: RawImage) => Uint8Array;
  /** The instance `bgstudy variants make <key> all` makes. */
  example: P extends z.ZodType ? z.input<P> : N;
  /** The numeric parameter a sweep plots on its x axis. */
  sweep?: { param: string; axisTitle: string };
  /** Axis position among instances of this variant (default: none, a single instance). */
  order?: (spec: SpecOf<N, P>) => number;
  /**
   * Where the report shows it: `baseline` (original: every section compares with it), in a shared section
   * (`xiao`: background correlation; `segmented`: only_fg-trained runs), or a section of its own.
   */
  report: 'baseline' | 'xiao' | 'segmented' | VariantSection;
}

type SpecOf<N extends string, P> = P extends z.ZodType ? z.output<P> : { name: N };

/** Keeps each entry's literal name and parameter schema in its type. */
function variant<N extends string, P extends z.ZodType | null>(entry: Entry<N, P>): Entry<N, P> {
  return entry;
}

/** The source's foreground over the donor's Only-BG-T, resized to the source's size. */
function pasteOnDonor(name: string, src: RawImage, donor?: RawImage): Uint8Array {
  if (!donor) throw new Error(`${name} needs a paired background image`);
  const bg = resizeNearest(onlyBgT(donor), donor.width, donor.height, src.width, src.height);
  return pasteForeground(src, bg);
}

const paletteOrder = Object.keys(PALETTE);

export const VARIANTS = [
  variant({
    name: 'original',
    definition: 'the image',
    params: null,
    pairing: 'none',
    upstream: true,
    apply: (_, src) => new Uint8Array(src.rgb),
    example: 'original',
    report: 'baseline',
  }),
  variant({
    name: 'only_bg_b',
    definition: 'foreground bounding box filled black',
    params: null,
    pairing: 'none',
    upstream: true,
    apply: (_, src) => onlyBgB(src),
    example: 'only_bg_b',
    report: 'xiao',
  }),
  variant({
    name: 'only_bg_t',
    definition:
      'foreground bounding box filled by tiling background from the same image (its largest foreground-free rectangle)',
    params: null,
    pairing: 'none',
    upstream: true,
    apply: (_, src) => onlyBgT(src),
    example: 'only_bg_t',
    report: 'xiao',
  }),
  variant({
    name: 'no_fg',
    definition: 'foreground pixels (mask) set black',
    params: null,
    pairing: 'none',
    upstream: true,
    apply: (_, src) => keepWhere(src.rgb, src.mask, true),
    example: 'no_fg',
    report: 'xiao',
  }),
  variant({
    name: 'only_fg',
    definition: 'background set black, foreground kept',
    params: null,
    pairing: 'none',
    upstream: true,
    apply: (_, src) => keepWhere(src.rgb, src.mask),
    example: 'only_fg',
    report: 'segmented',
  }),
  variant({
    name: 'mixed_same',
    definition: 'foreground pasted onto the only_bg_t of another image of the same class',
    params: null,
    pairing: 'split',
    upstream: true,
    apply: (spec, src, donor) => pasteOnDonor(spec.name, src, donor),
    example: 'mixed_same',
    report: 'xiao',
  }),
  variant({
    name: 'mixed_rand',
    definition: 'foreground pasted onto the only_bg_t of an image of a random class',
    params: null,
    pairing: 'split',
    upstream: true,
    apply: (spec, src, donor) => pasteOnDonor(spec.name, src, donor),
    example: 'mixed_rand',
    report: 'xiao',
  }),
  variant({
    name: 'mixed_next',
    definition: 'foreground pasted onto the only_bg_t of an image of class (y+1) mod K',
    params: null,
    pairing: 'split',
    upstream: true,
    apply: (spec, src, donor) => pasteOnDonor(spec.name, src, donor),
    example: 'mixed_next',
    report: 'xiao',
  }),
  variant({
    name: 'bg_color',
    definition: 'background replaced by a solid colour',
    params: z
      .object({
        name: z.literal('bg_color'),
        color: z
          .enum([...(Object.keys(PALETTE) as PaletteColor[]), 'contrast', 'match'])
          .default('contrast')
          .describe(
            "a palette colour; contrast: the one farthest from the foreground's mean; match: the nearest",
          ),
      })
      .strict(),
    pairing: 'none',
    upstream: false,
    apply: (spec, src) => solidBackground(src, bgColorOf(src, spec.color)),
    example: { name: 'bg_color', color: 'contrast' },
    order: ({ color }) => (color === 'contrast' ? -2 : color === 'match' ? -1 : paletteOrder.indexOf(color)),
    report: {
      title: 'Solid background colour',
      claim: 'Slides: solid-colour backgrounds help when they raise the contrast at the object edge.',
    },
  }),
  variant({
    name: 'bg_blur',
    definition: 'background Gaussian-blurred with sigma; foreground untouched',
    params: z
      .object({
        name: z.literal('bg_blur'),
        sigma: z.number().positive().max(64).describe('Gaussian sigma in pixels'),
      })
      .strict(),
    pairing: 'none',
    upstream: false,
    apply: (spec, src) => {
      const weight = new Uint8Array(src.mask.length);
      for (let i = 0; i < weight.length; i++) weight[i] = src.mask[i] ? 0 : 1;
      return maskedGaussianBlur(src.rgb, weight, src.width, src.height, spec.sigma);
    },
    example: { name: 'bg_blur', sigma: 4 },
    sweep: { param: 'sigma', axisTitle: 'blur sigma (px)' },
    order: ({ sigma }) => sigma,
    report: {
      title: 'Background blur sweep',
      claim: 'Slides: blurred backgrounds help when blurring raises the object’s edge contrast.',
    },
  }),
  variant({
    name: 'bg_reduced',
    definition: 'background kept only within a dilation of the mask by r; the rest black',
    params: z
      .object({
        name: z.literal('bg_reduced'),
        r: z
          .number()
          .min(0)
          .max(4096)
          .describe("dilation radius: r < 1 is a fraction of the image's shorter side, r >= 1 is pixels"),
      })
      .strict(),
    pairing: 'none',
    upstream: false,
    apply: (spec, src) =>
      keepWhere(
        src.rgb,
        dilateMask(src.mask, src.width, src.height, reducedRadiusPx(spec.r, src.width, src.height)),
      ),
    example: { name: 'bg_reduced', r: 0.1 },
    sweep: { param: 'r', axisTitle: 'kept background radius r (fraction of side, or px)' },
    order: ({ r }) => r,
    report: {
      title: 'Reduced background sweep',
      claim:
        'Slides: accuracy with a reduced background lies between only_fg (upper bound) and original (lower bound).',
      bounds: [
        { label: 'trained & tested on only_fg (upper bound)', train: 'only_fg' },
        { label: 'trained & tested on original (lower bound)', train: 'original' },
      ],
    },
  }),
  variant({
    name: 'fg_mask_quality',
    definition:
      'only_fg with the mask eroded or dilated by k px, replaced by its bounding box, or found by GrabCut from that box',
    params: z
      .object({
        name: z.literal('fg_mask_quality'),
        op: z
          .enum(['erode', 'dilate', 'bbox', 'grabcut'])
          .describe("grabcut: the mask GrabCut finds from the mask's bounding box (core/masks/grabcut.ts)"),
        k: z
          .number()
          .int()
          .min(0)
          .max(256)
          .default(0)
          .describe('pixels to erode or dilate by (ignored for bbox); GrabCut iterations for grabcut (0: 5)'),
      })
      .strict()
      .transform((v) =>
        v.op === 'bbox' ? { ...v, k: 0 } : v.op === 'grabcut' ? { ...v, k: Math.min(20, v.k || 5) } : v,
      ),
    pairing: 'none',
    upstream: false,
    apply: (spec, src) => {
      // grabcut: materialize.ts hands in the GrabCut mask as the source's mask (GrabCut needs OpenCV, async)
      const m =
        spec.op === 'grabcut'
          ? src.mask
          : spec.op === 'bbox'
            ? bboxMask(src.bbox, src.width, src.height)
            : spec.op === 'erode'
              ? erodeMask(src.mask, src.width, src.height, spec.k)
              : dilateMask(src.mask, src.width, src.height, spec.k);
      return keepWhere(src.rgb, m);
    },
    example: { name: 'fg_mask_quality', op: 'bbox' },
    // from the tightest mask to the loosest: erode k (large first), dilate k, GrabCut, then the bounding box
    order: ({ op, k }) => (op === 'erode' ? -k : op === 'dilate' ? k : op === 'grabcut' ? 1e5 : 1e6),
    report: {
      title: 'Foreground mask quality',
      claim:
        'Does better segmentation give better accuracy? only_fg with eroded, dilated, GrabCut or box masks (mask IoU: the Masks section).',
      bounds: [{ label: 'trained & tested on only_fg (exact mask)', train: 'only_fg' }],
    },
  }),
  variant({
    name: 'generic_bg',
    definition:
      'foreground pasted onto the only_bg_t of a background from one class-independent pool: non-target context removed',
    params: null,
    pairing: 'generic',
    upstream: false,
    apply: (spec, src, donor) => pasteOnDonor(spec.name, src, donor),
    example: 'generic_bg',
    report: {
      title: 'Generic backgrounds',
      claim:
        'Slides: pasting objects onto class-independent scenes (non-target context removed) cost 20–25% accuracy (EfficientNet-B0, 4 classes).',
      crossTrained: true,
    },
  }),
] as const;

type AnyEntry = (typeof VARIANTS)[number];
type SpecOfEntry<E> = E extends Entry<infer N, infer P> ? SpecOf<N, P> : never;
type InputOfEntry<E> =
  E extends Entry<infer N, infer P> ? (P extends z.ZodType ? z.input<P> : N | { name: N }) : never;

export type VariantName = AnyEntry['name'];
/** One concrete variant: a name and one value per parameter, e.g. `{ name: 'bg_blur', sigma: 4 }`. */
export type VariantSpec = SpecOfEntry<AnyEntry>;
/** A variant as written in a spec: the object form, or a bare name for one without parameters. */
export type VariantSpecInput = InputOfEntry<AnyEntry>;
export type VariantEntry = Entry<VariantName, z.ZodType | null>;

const byName = new Map<string, VariantEntry>(VARIANTS.map((e) => [e.name, e as unknown as VariantEntry]));

/** The registry entry of a variant name, if there is one. */
export function findVariant(name: string): VariantEntry | undefined {
  return byName.get(name);
}

/** The registry entry of a variant name; throws naming the known ones. */
export function variantEntry(name: string): VariantEntry {
  const e = byName.get(name);
  if (!e) throw new Error(`unknown variant "${name}" (known: ${[...byName.keys()].join(', ')})`);
  return e;
}

/**
 * Applies one variant to one image. `donor` is the paired image whose background a mixed_* or generic_bg
 * output uses (its Only-BG-T, resized to the source's size). Returns the output pixels; the output's mask is
 * always the source's foreground mask (where the object is, or was).
 */
export function applyVariant(spec: VariantSpec, src: RawImage, donor?: RawImage): Uint8Array {
  return variantEntry(spec.name).apply(spec, src, donor);
}
