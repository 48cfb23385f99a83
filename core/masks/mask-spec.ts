import { z } from 'zod';

/** Where a foreground mask comes from: the dataset's own masks, GrabCut from boxes, or the filled boxes. */
export const MASK_SOURCES = ['provided', 'grabcut', 'box'] as const;
export type MaskSourceName = (typeof MASK_SOURCES)[number];
const maskSourceSchema = z.enum(MASK_SOURCES);

/**
 * Bounding boxes for the `grabcut` and `box` mask sources. Coordinates are pixel edges of the image as stored
 * on disk (before any resize), read as the half-open box [xmin, xmax) x [ymin, ymax).
 */
export const boxSourceSchema = z.discriminatedUnion('format', [
  z
    .object({
      /** ImageNet / PASCAL-VOC XML, `<path>/<class folder>/<stem>.xml` or `<path>/<stem>.xml`. */
      format: z.literal('voc-xml'),
      path: z.string().min(1),
      /** `class`: only objects named like the image's class folder or class; `any`: every object. */
      objects: z.enum(['class', 'any']).default('class'),
      /** Larger annotation files are refused by name, unread (default 4 MiB; an ImageNet one is about 1 KB). */
      maxBytes: z.number().int().min(1).optional(),
    })
    .strict(),
  z
    .object({
      /** A CSV with the header `image,xmin,ymin,xmax,ymax` (image: the file's stem or `<class>/<stem>`). */
      format: z.literal('csv'),
      file: z.string().min(1),
      /** A larger table is refused by name, unread (default 64 MiB). */
      maxBytes: z.number().int().min(1).optional(),
    })
    .strict(),
  z
    .object({
      /** A JSON object `{ "<stem>" or "<class>/<stem>": [[xmin, ymin, xmax, ymax], ...] }`. */
      format: z.literal('json'),
      file: z.string().min(1),
      /** A larger table is refused by name, unread (default 64 MiB). */
      maxBytes: z.number().int().min(1).optional(),
    })
    .strict(),
  z
    .object({
      /** The bounding box of the provided mask (to compare GrabCut with the true masks). */
      format: z.literal('mask'),
    })
    .strict(),
]);

export const maskChecksSchema = z
  .object({
    /** A mask whose foreground share is below this is flagged `fg-low`. */
    minFgFraction: z.number().min(0).max(1).default(0.01),
    /** A mask whose foreground share is above this is flagged `fg-high`. */
    maxFgFraction: z.number().min(0).max(1).default(0.95),
    /** More connected foreground pieces than this is flagged `fragmented`. */
    maxComponents: z.number().int().min(1).default(10),
    /** Pieces smaller than this share of the image are not counted (speckle). */
    minComponentFraction: z.number().min(0).max(0.5).default(0.001),
    /**
     * What happens to an image whose mask is flagged (empty, all-foreground and wrongly sized masks are always
     * skipped): `keep` uses it as it is; `invert` inverts masks touching all four borders (likely swapped
     * polarity) and keeps the rest; `skip` skips it. Every flagged mask is reported, whatever the policy.
     */
    policy: z.enum(['keep', 'invert', 'skip']).default('keep'),
  })
  .strict()
  .refine((c) => c.minFgFraction <= c.maxFgFraction, 'minFgFraction must be <= maxFgFraction');

export const maskSpecSchema = z
  .object({
    /** The mask the dataset's shards (and so every variant) carry. */
    use: maskSourceSchema.default('provided'),
    /** Further mask sources computed on the same images, checked and compared (IoU) with the provided masks. */
    compare: z.array(maskSourceSchema).default([]),
    /**
     * With `use: 'provided'`: where an image's mask comes from when it has no usable provided one (none, or an
     * empty, full or wrongly sized one), e.g. IN-9's training images, which come without masks, by GrabCut from
     * ImageNet's boxes while its val images keep their own masks.
     */
    fallback: z.enum(['grabcut', 'box']).optional(),
    /** Boxes for grabcut/box; default: the box of the provided mask. */
    boxes: boxSourceSchema.optional(),
    grabcut: z
      .object({
        /** GrabCut iterations (OpenCV's iterCount). */
        iterations: z.number().int().min(1).max(20).default(5),
        /** Each box grows by this share of its width/height on every side before GrabCut starts from it. */
        margin: z.number().min(0).max(0.5).default(0),
      })
      .strict()
      .default({ iterations: 5, margin: 0 }),
    checks: maskChecksSchema.default({
      minFgFraction: 0.01,
      maxFgFraction: 0.95,
      maxComponents: 10,
      minComponentFraction: 0.001,
      policy: 'keep',
    }),
  })
  .strict()
  .refine((m) => m.fallback === undefined || m.use === 'provided', {
    message: 'fallback applies with use "provided" only (the source used when an image has no provided mask)',
    path: ['fallback'],
  });

export type BoxSource = z.output<typeof boxSourceSchema>;
export type MaskChecksSpec = z.output<typeof maskChecksSchema>;
export type MaskSpec = z.output<typeof maskSpecSchema>;
export type MaskSpecInput = z.input<typeof maskSpecSchema>;

/** The mask section in force for a real source: the given one, or the defaults (provided masks, checked). */
export function resolveMaskSpec(spec: MaskSpec | undefined): MaskSpec {
  return spec ?? maskSpecSchema.parse({});
}

/** Every mask source a dataset computes per image, the used one first. */
export function maskSourcesOf(spec: MaskSpec, hasProvided: boolean): MaskSourceName[] {
  const out: MaskSourceName[] = [spec.use];
  const fallback = spec.fallback ? [spec.fallback] : [];
  for (const s of [...(hasProvided ? (['provided'] as const) : []), ...fallback, ...spec.compare])
    if (!out.includes(s)) out.push(s);
  return out;
}
