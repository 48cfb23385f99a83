import type { ArtifactStore } from '../../store/artifact-store';
import { putJson, tryGetJson } from '../../store/json';
import type {
  GeneratedShard,
  ItemMeta,
  ManifestSplit,
  ShardIndex,
  ShardRef,
  SkippedFile,
  SplitData,
} from './manifest';
import { manifestRefOf } from './manifest-items';
import { itemMetaOf } from './mask-stats';
import { encodeRawShard, rawShardBytes } from './raw-shard';
import type { Sample } from './sample';
import { encodeTarShard } from './tar-shard';

export interface ShardProgress {
  split: ManifestSplit;
  /** Shards of this split finished so far (including reused ones). */
  shardsDone: number;
  shards: number;
  /** Input units (files, images) of this split handled so far. */
  unitsDone: number;
  units: number;
  /** Images written to this split so far. */
  imagesDone: number;
  /** True when this shard was found in the store (a resumed run). */
  reused: boolean;
}

export type ProgressCallback = (p: ShardProgress) => void;

/** What one shard's producer returns for input units [start, end). */
export interface ShardBatch {
  samples: Sample[];
  /** Per sample, extra manifest fields (e.g. the recorded pairing `bgFrom`). */
  extras?: Partial<ItemMeta>[];
  skipped: SkippedFile[];
  /**
   * Set for a variant computed when read: the shard's pixels are not stored, only what recomputes them (its
   * index still lists every item, with the hash of the pixels a reader will get).
   */
  generate?: GeneratedShard;
}

export interface WriteSplitOptions {
  store: ArtifactStore;
  /** e.g. `datasets/<hash>`; shards go to `<prefix>/shards/<split>-NNNNN.*`. */
  prefix: string;
  split: ManifestSplit;
  /** Number of input units (files or source images); units per shard = shardSize. */
  units: number;
  shardSize: number;
  tar: boolean;
  /** Classes of the dataset: the split's per-class counts (not for the class-free `generic` pool). */
  classes: number;
  /** Also return every item (for summaries over all of them); otherwise items stay in the shards' indexes. */
  keepItems?: boolean;
  onProgress?: ProgressCallback;
}

/**
 * Writes one split as shards of `shardSize` input units. Each shard ends with a small index object, written
 * last, so a rerun (a retried activity, a resumed CLI run) finds finished shards and skips their work.
 */
export async function writeSplit(
  opts: WriteSplitOptions,
  make: (start: number, end: number) => Promise<ShardBatch>,
): Promise<{ data: SplitData; skipped: SkippedFile[]; items?: ItemMeta[] }> {
  const { store, prefix, split, units, shardSize } = opts;
  const shards = Math.max(1, Math.ceil(units / shardSize));
  const refs: ShardRef[] = [];
  const items: ItemMeta[] | undefined = opts.keepItems ? [] : undefined;
  const perClass = new Array<number>(opts.classes).fill(0);
  let count = 0;
  const skipped: SkippedFile[] = [];
  for (let i = 0; i < shards; i++) {
    const base = `${prefix}/shards/${split}-${String(i).padStart(5, '0')}`;
    const indexKey = `${base}.index.json.gz`;
    let index = await tryGetJson<ShardIndex>(store, indexKey);
    const reused = index !== undefined;
    if (!index) {
      const start = i * shardSize;
      const end = Math.min(units, start + shardSize);
      const batch = await make(start, end);
      const metas = batch.samples.map((s, j) => itemMetaOf(s, batch.extras?.[j]));
      const ref: ShardRef = { count: batch.samples.length, bytes: rawShardBytes(batch.samples) };
      if (batch.generate) ref.generate = batch.generate;
      else {
        ref.raw = `${base}.bgraw`;
        await store.put(ref.raw, await encodeRawShard(batch.samples), {
          contentType: 'application/octet-stream',
        });
      }
      if (opts.tar) {
        ref.tar = `${base}.tar`;
        await store.put(ref.tar, await encodeTarShard(batch.samples, metas, count), {
          contentType: 'application/x-tar',
        });
      }
      index = { shard: ref, items: metas, skipped: batch.skipped };
      await putJson(store, indexKey, index);
    }
    // the manifest names the index (where the items and donors are) and pins it by hash
    refs.push(manifestRefOf(index, indexKey));
    for (const it of index.items) {
      if (it.label >= 0 && it.label < opts.classes) perClass[it.label]!++;
      items?.push(it);
    }
    count += index.items.length;
    skipped.push(...index.skipped);
    opts.onProgress?.({
      split,
      shardsDone: i + 1,
      shards,
      unitsDone: Math.min(units, (i + 1) * shardSize),
      units,
      imagesDone: count,
      reused,
    });
  }
  const data: SplitData = { count, shards: refs };
  if (split !== 'generic') data.classCounts = perClass;
  return { data, skipped, ...(items ? { items } : {}) };
}

/** Shard size: ~64 MB of raw pixels per shard, kept within 100..1000 images. */
export function defaultShardSize(width: number, height: number): number {
  const perImage = width * height * 4;
  return Math.max(100, Math.min(1000, Math.floor((64 * 1024 * 1024) / perImage)));
}
