import type { MaskInfo, MaskSummary } from '../masks/mask-summary';
import type { Split } from './sample';

/** Foreground bounding box, half-open: columns x0..x1-1, rows y0..y1-1. */
export type BBox = [x0: number, y0: number, x1: number, y1: number];

/** One image as its shard's index lists it (pixels live in the shards). */
export interface ItemMeta {
  id: string;
  label: number;
  width: number;
  height: number;
  bbox: BBox;
  /** Share of pixels in the foreground mask. */
  fgFraction: number;
  /** sha256 (first 16 hex) of the decoded RGB bytes followed by the mask bytes. */
  hash: string;
  /** Variants that paste onto another image's background: the id of that image (the recorded pairing). */
  bgFrom?: string;
  /** Synthetic data: the background family drawn (ground truth for the background signal). */
  bgFamily?: string;
  /** Per mask source computed for this image: sanity checks, and IoU against the provided mask. */
  masks?: MaskInfo;
  /** Problems found and worked around (e.g. a box clipped to the image). */
  notes?: string[];
}

export interface ShardRef {
  /** Lossless raw shard (core/data/raw-shard.ts): what training reads. Absent when `generate` is set. */
  raw?: string;
  /** WebDataset-style tar of PNG images + PNG masks + index.json, when written. */
  tar?: string;
  count: number;
  /** The shard's size in raw-shard version 1 (core/data/raw-shard.ts rawShardBytes): readers budget memory by it. */
  bytes: number;
  /** A variant shard whose pixels are computed when read, from the dataset's shards (core/variants/generated.ts). */
  generate?: GeneratedShard;
  /**
   * The shard's index file (`ShardIndex`): its items and, for a generated shard, its donors. Absent in manifests
   * that list both inline.
   */
  index?: string;
  /** hashOf(the index file's content): core/data/manifest-items.ts checks it on reading. */
  indexHash?: string;
}

/** `<shard>.index.json.gz` (gzipped JSON; `.index.json` in stores written before): written last, so a rerun finds finished shards; the shard's items live here. */
export interface ShardIndex {
  shard: ShardRef;
  items: ItemMeta[];
  skipped: SkippedFile[];
}

/**
 * What a reader needs, beyond the dataset's own shards and the variant spec, to compute a variant shard's
 * pixels: everything the variant function takes that was drawn at random or computed once.
 */
export interface GeneratedShard {
  /** The dataset's raw shard with the source images, in this shard's order. */
  source: string;
  /** Paired variants: per image, its donor's index in the donor split (the split itself, or `generic`). */
  donors?: number[];
  /** fg_mask_quality op=grabcut: the GrabCut batch (core/masks/grabcut-cache.ts) holding this shard's masks. */
  grabcut?: string;
}

export interface SplitData {
  count: number;
  shards: ShardRef[];
  /** Per class (index = label), the images of this split; absent for the class-free `generic` pool. */
  classCounts?: number[];
  /**
   * Every item, in manifests written before items moved to each shard's index (ShardRef.index); read either
   * form through core/data/manifest-items.ts.
   */
  items?: ItemMeta[];
}

export interface SkippedFile {
  file: string;
  reason: string;
  /** An image skipped for its masks: the item id and what the checks found. */
  id?: string;
  masks?: MaskInfo;
}

/** Splits a manifest can hold; `generic` is the class-free background pool used by generic_bg. */
export type ManifestSplit = Split | 'generic';

/**
 * The normalized form of a dataset (`datasets/<hash>/manifest.json`) and of a variant of it
 * (`variants/<datasetHash>/<variant>/<paramsHash>/manifest.json`): both read the same way.
 */
export interface DataManifest {
  /** 2: items in each shard's index file; 1: every item inline (still read). */
  version: 1 | 2;
  kind: 'dataset' | 'variant';
  /** Content hash of this dataset or variant (also in its key). */
  hash: string;
  /** The dataset this was made from (equals `hash` for a dataset). */
  datasetHash: string;
  classes: string[];
  splits: Partial<Record<ManifestSplit, SplitData>>;
  skipped: SkippedFile[];
  codeVersion: string;
  /** For a dataset: the validated source spec. */
  source?: unknown;
  /** For a variant: the validated variant spec and the pairing seed. */
  variant?: unknown;
  seed?: number;
  /** For a variant whose shards are generated when read: the dataset manifest they are computed from. */
  generatedFrom?: string;
  /** For a real dataset: the mask sources, their sanity checks and IoU (core/masks/mask-summary.ts). */
  masks?: MaskSummary;
}

export function datasetPrefix(hash: string): string {
  return `datasets/${hash}`;
}

export function manifestKeyOf(prefix: string): string {
  return `${prefix}/manifest.json`;
}
