import type { MaskSpec } from '../masks/mask-spec';
import type { ManifestSplit, SkippedFile } from './manifest';
import type { ShardBatch } from './shard-writer';

/** One split a source will write: `units` inputs, made into samples a shard at a time. */
export interface SplitPlan {
  split: ManifestSplit;
  units: number;
  make(start: number, end: number): Promise<ShardBatch>;
}

/** What a source reader (synthetic, folder, in9, pixel-imagenet) hands to prepareDataset. */
export interface DatasetPlan {
  classes: string[];
  /** Identifies the input content (e.g. file names, sizes, mtimes); part of the dataset hash. */
  fingerprint: unknown;
  splits: SplitPlan[];
  /** Problems found while listing (unknown class folders, non-image files), before any decoding. */
  skipped: SkippedFile[];
  /** Expected image side, for the shard size. */
  approxSize: number;
  /** Real sources: the mask section in force (summarized into the manifest's `masks`). */
  masks?: MaskSpec;
  /** At most this many units per shard (e.g. when GrabCut makes each shard slow). */
  maxShardSize?: number;
  /** Releases what the plan holds (worker threads). */
  close?: () => Promise<void>;
}
