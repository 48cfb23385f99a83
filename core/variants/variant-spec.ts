import { z } from 'zod';

/** The eight variants of Xiao et al.'s ImageNet-9 release, as its folders spell them. */
export const XIAO_VARIANTS = [
  'original',
  'only_bg_b',
  'only_bg_t',
  'no_fg',
  'only_fg',
  'mixed_same',
  'mixed_rand',
  'mixed_next',
] as const;

/** Variants without parameters: Xiao's, plus the slides' generic backgrounds. */
export const SIMPLE_VARIANTS = [...XIAO_VARIANTS, 'generic_bg'] as const;
export const PALETTE = {
  black: [0, 0, 0],
  white: [255, 255, 255],
  gray: [128, 128, 128],
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [240, 220, 40],
  purple: [150, 60, 190],
} as const satisfies Record<string, readonly [number, number, number]>;
export type PaletteColor = keyof typeof PALETTE;

const simple = z.object({ name: z.enum(SIMPLE_VARIANTS) }).strict();
const bgColor = z
  .object({
    name: z.literal('bg_color'),
    /** A palette colour, `contrast` (the palette colour farthest from the foreground's mean) or `match` (nearest). */
    color: z.enum([...(Object.keys(PALETTE) as PaletteColor[]), 'contrast', 'match']).default('contrast'),
  })
  .strict();
const bgBlur = z
  .object({
    name: z.literal('bg_blur'),
    /** Gaussian sigma in pixels. */ sigma: z.number().positive().max(64),
  })
  .strict();
const bgReduced = z
  .object({
    name: z.literal('bg_reduced'),
    /** Dilation radius: r < 1 is a fraction of the image's shorter side, r >= 1 is pixels. */
    r: z.number().min(0).max(4096),
  })
  .strict();
const fgMaskQuality = z
  .object({
    name: z.literal('fg_mask_quality'),
    /** grabcut: the mask GrabCut finds from the bounding box of the mask (core/masks/grabcut.ts). */
    op: z.enum(['erode', 'dilate', 'bbox', 'grabcut']),
    /** Pixels to erode or dilate by (ignored for bbox); GrabCut iterations for grabcut (0: the default 5). */
    k: z.number().int().min(0).max(256).default(0),
  })
  .strict()
  .transform((v) =>
    v.op === 'bbox' ? { ...v, k: 0 } : v.op === 'grabcut' ? { ...v, k: Math.min(20, v.k || 5) } : v,
  );

const variantObjectSchema = z.union([simple, bgColor, bgBlur, bgReduced, fgMaskQuality]);

const PARAM_SCHEMAS: Record<string, z.ZodType> = {
  bg_color: bgColor,
  bg_blur: bgBlur,
  bg_reduced: bgReduced,
  fg_mask_quality: fgMaskQuality,
};

/** One concrete variant: a name and one value per parameter, e.g. `{ name: 'bg_blur', sigma: 4 }`. */
export const variantSpecSchema = z.union([
  z.enum(SIMPLE_VARIANTS).transform((name) => ({ name })),
  variantObjectSchema,
]);

export type VariantSpec = z.output<typeof variantSpecSchema>;
export type VariantSpecInput = z.input<typeof variantSpecSchema>;
export type VariantName = VariantSpec['name'];

export const ALL_VARIANT_NAMES = [
  ...SIMPLE_VARIANTS,
  'bg_color',
  'bg_blur',
  'bg_reduced',
  'fg_mask_quality',
] as const;

/** Variants whose output depends on a seeded pairing with another image (the seed is part of their key). */
export function usesPairing(name: VariantName): boolean {
  return name === 'mixed_same' || name === 'mixed_rand' || name === 'mixed_next' || name === 'generic_bg';
}

/** Short readable label, e.g. `bg_blur(sigma=4)`, for logs and reports. */
export function variantLabel(spec: VariantSpec): string {
  const params = Object.entries(spec)
    .filter(([k]) => k !== 'name')
    .map(([k, v]) => `${k}=${String(v)}`);
  return params.length ? `${spec.name}(${params.join(',')})` : spec.name;
}

/** One of each variant with typical parameters (what `bgstudy variants <key> all` makes). */
export const ALL_VARIANTS_DEFAULT: VariantSpecInput[] = [
  ...XIAO_VARIANTS,
  { name: 'bg_color', color: 'contrast' },
  { name: 'bg_blur', sigma: 4 },
  { name: 'bg_reduced', r: 0.1 },
  { name: 'fg_mask_quality', op: 'bbox' },
  'generic_bg',
];

/**
 * Parses the command-line form of a variant: `name` or `name:key=value,key=value`
 * (e.g. `bg_blur:sigma=4`, `fg_mask_quality:op=erode,k=2`); numbers are converted.
 */
export function parseVariantArg(arg: string): VariantSpec {
  const [name, params] = arg.split(':', 2);
  const obj: Record<string, unknown> = { name };
  for (const kv of params ? params.split(',') : []) {
    const [k, v] = kv.split('=', 2);
    if (!k || v === undefined) throw new Error(`variant "${arg}": expected key=value, got "${kv}"`);
    obj[k] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  if (!(ALL_VARIANT_NAMES as readonly string[]).includes(name ?? ''))
    throw new Error(`unknown variant "${name}" (known: ${ALL_VARIANT_NAMES.join(', ')})`);
  // parse against the one member schema of this name, so errors name the bad parameter
  const parsed = (PARAM_SCHEMAS[name!] ?? simple).safeParse(obj);
  if (!parsed.success)
    throw new Error(
      `variant "${arg}": ${parsed.error.issues.map((i) => `${i.path.join('.') || 'name'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data as VariantSpec;
}
