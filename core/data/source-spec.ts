import { z } from 'zod';
import { maskSpecSchema } from '../masks/mask-spec';
import { hasUrlCredentials, URL_CREDENTIALS_MESSAGE } from './url-credentials';

/**
 * Dataset sources, as a study spec or `bgstudy data ...` names them. Each is turned into the same normalized
 * form (core/data/manifest.ts) by core/data/prepare.ts. Defaults are applied here, so a parsed spec is complete
 * and its hash (the dataset's content address) does not depend on how it was written.
 */
export const syntheticSourceSchema = z
  .object({
    source: z.literal('synthetic'),
    /** Number of classes, one shape family each (at most 12). */
    classes: z.number().int().min(2).max(12).default(9),
    perClass: z
      .object({
        train: z.number().int().min(1).max(100_000).default(200),
        val: z.number().int().min(1).max(100_000).default(50),
      })
      .strict()
      .default({ train: 200, val: 50 }),
    /** Square image side in pixels. */
    size: z.number().int().min(16).max(512).default(64),
    /** p: probability that an image's background family is its class's own family (0 = no signal, 1 = determined). */
    bgCorrelation: z.number().min(0).max(1).default(0.9),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /**
     * Half the object box's mean side, as a fraction of the image side, drawn uniformly in [min, max] for every
     * class: each shape is stretched to fill its box, so the box itself says nothing about the class.
     */
    objectScale: z
      .object({ min: z.number().min(0.05).max(0.5), max: z.number().min(0.05).max(0.5) })
      .strict()
      .refine((s) => s.min <= s.max, 'objectScale.min must be <= objectScale.max')
      .default({ min: 0.28, max: 0.38 }),
    /** The box's aspect (width / height) is drawn log-uniformly in [1 / maxAspect, maxAspect], for every class. */
    maxAspect: z.number().min(1).max(3).default(1.25),
    /**
     * The slides' class-dependent background factors, each a strength in [0, 1] (the probability that an
     * image carries its class's version), independent of p and of each other; 0 = absent. shadow: a cast
     * shadow in a class-specific direction; distractor: a co-occurring non-target object (class-specific hue
     * and orientation) beside the object; classSize: the object's size from a class-specific band. The fourth
     * factor, background family and hue, is bgCorrelation (with hueCue).
     */
    factors: z
      .object({
        shadow: z.number().min(0).max(1).default(0),
        distractor: z.number().min(0).max(1).default(0),
        classSize: z.number().min(0).max(1).default(0),
      })
      .strict()
      .default({ shadow: 0, distractor: 0, classSize: 0 }),
    /** Objects are rotated uniformly within ±maxRotation degrees (180: any orientation). */
    maxRotation: z.number().min(0).max(180).default(15),
    /**
     * Probability that a background's base colour comes from its family's own hue band (a colour cue, like sky or
     * grass, that a small CNN picks up far faster than a texture); otherwise any colour. With bgCorrelation it sets
     * how much background signal there is to lean on: 0 leaves only the pattern.
     */
    hueCue: z.number().min(0).max(1).default(0.4),
    /** Euclidean RGB distance between a background's two colours: moderate keeps shapes learnable. */
    bgContrast: z.number().min(0).max(255).default(40),
    /** Per-pixel noise amplitude (0..255) on backgrounds. */
    bgNoise: z.number().min(0).max(64).default(6),
    /** Minimum RGB distance between the object's colour and its background's mean. */
    minColorDistance: z.number().min(0).max(300).default(130),
    /** Size of the class-free background pool for generic_bg. */
    genericCount: z.number().int().min(0).max(100_000).default(100),
  })
  .strict();

/** A folder path or an `s3://` URL: never with credentials in it (s3://user:secret@bucket would be stored too). */
const location = z
  .string()
  .min(1)
  .refine((u) => !hasUrlCredentials(u), URL_CREDENTIALS_MESSAGE);

const realCommon = {
  /** Resize (cover, centre crop) to a square of this side; masks use nearest neighbour. Omit to keep sizes. */
  size: z.number().int().min(8).max(1024).optional(),
  /** Take at most this many images per class and split (the first ones in sorted order). */
  maxPerClass: z.number().int().min(1).optional(),
  /** A folder of class-free background images: the pool generic_bg pastes onto. */
  genericPath: location.optional(),
  /** Which masks the dataset uses (provided, grabcut or box), what it compares, boxes, checks (core/masks). */
  masks: maskSpecSchema.optional(),
  /** Images and masks with more pixels are skipped and reported, never decoded (default 40,000,000). */
  maxPixels: z.number().int().min(64).max(1_000_000_000).optional(),
};

export const folderSourceSchema = z
  .object({
    source: z.literal('folder'),
    /** `<path>/<class>/<image>`, or `<path>/{train,val}/<class>/<image>` when a train folder exists. */
    path: location,
    /**
     * The same tree with one mask per image (`<stem>.png`, or `.npy`), 255/1/true = foreground. May be omitted
     * when `masks` makes the masks from annotated boxes (use grabcut or box).
     */
    maskPath: location.optional(),
    /** Allowed class folders, in label order; other folders are skipped and reported. Default: all, sorted. */
    classes: z.array(z.string().min(1)).min(2).optional(),
    /** Without train/val folders: the share of each class that goes to val (seeded). */
    valFraction: z.number().min(0).max(0.9).default(0.2),
    seed: z.number().int().min(0).default(1),
    ...realCommon,
  })
  .strict()
  .refine(
    (s) =>
      s.maskPath !== undefined ||
      (s.masks !== undefined &&
        s.masks.use !== 'provided' &&
        !s.masks.compare.includes('provided') &&
        s.masks.boxes !== undefined &&
        s.masks.boxes.format !== 'mask'),
    'folder needs maskPath, unless masks.use is grabcut or box with masks.boxes from annotations (voc-xml, csv, json)',
  );

export const in9SourceSchema = z
  .object({
    source: z.literal('in9'),
    /** The backgrounds_challenge data root: `<path>/<variant>/{train,val}/NN_class/*`, masks in `<path>/fg_mask/`. */
    path: location.optional(),
    /** Or a URL of a .tar.gz of that root (downloaded once, resumable, extracted into the cache folder). */
    url: z
      .url()
      .refine((u) => !hasUrlCredentials(u), `url ${URL_CREDENTIALS_MESSAGE}`)
      .optional(),
    /** Largest archive accepted from `url` (bytes; default 16 GiB): a bigger or endless download is refused. */
    maxDownloadBytes: z.number().int().min(1).optional(),
    /**
     * Largest total size extracted from the archive at `url` (bytes; default 64 GiB, and never more than the
     * cache disk's free space less 1 GiB): a gzip bomb stops here.
     */
    maxExtractedBytes: z.number().int().min(1).optional(),
    /** Expected sha256 (hex) of the archive at `url`. */
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/)
      .optional(),
    /** Which variant folder to import as the dataset's images. */
    variant: z
      .string()
      .regex(/^[a-z_]+$/)
      .default('original'),
    /** Splits to import; default: those present (the backgrounds_challenge test release has only val). */
    splits: z
      .array(z.enum(['train', 'val']))
      .min(1)
      .optional(),
    ...realCommon,
  })
  .strict()
  .refine((s) => (s.path === undefined) !== (s.url === undefined), 'in9 needs exactly one of path and url');

export const pixelImagenetSourceSchema = z
  .object({
    source: z.literal('pixel-imagenet'),
    /** ImageNet images, `<imagesPath>/<wnid>/<stem>.JPEG`. */
    imagesPath: location,
    /** Pixel-ImageNet masks, `<masksPath>/<wnid>/<stem>.png`; the masks decide which images are used. */
    masksPath: location,
    /** Class subset by WordNet id, in label order. */
    wnids: z.array(z.string().regex(/^n\d{8}$/)).min(2),
    /** Optional readable names, in the order of wnids. */
    classNames: z.array(z.string().min(1)).optional(),
    valFraction: z.number().min(0).max(0.9).default(0.2),
    seed: z.number().int().min(0).default(1),
    ...realCommon,
  })
  .strict();

export const sourceSpecSchema = z.discriminatedUnion('source', [
  syntheticSourceSchema,
  folderSourceSchema,
  in9SourceSchema,
  pixelImagenetSourceSchema,
]);

export type SyntheticSource = z.output<typeof syntheticSourceSchema>;
export type FolderSource = z.output<typeof folderSourceSchema>;
export type In9Source = z.output<typeof in9SourceSchema>;
export type PixelImagenetSource = z.output<typeof pixelImagenetSourceSchema>;
/** A parsed (defaults applied) dataset source. */
export type SourceSpec = z.output<typeof sourceSpecSchema>;
/** A source as a user writes it (defaults optional). */
export type SourceSpecInput = z.input<typeof sourceSpecSchema>;
