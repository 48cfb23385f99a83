import os from 'node:os';
import type { ArtifactStore } from '../../store/artifact-store';
import { getJson, putJson, tryGetJson } from '../../store/json';
import { contentKey } from '../../store/keys';
import {
  type DataManifest,
  type GeneratedShard,
  type ItemMeta,
  type ManifestSplit,
  manifestKeyOf,
  type ShardRef,
  type SplitData,
} from '../data/manifest';
import type { Sample } from '../data/sample';
import { ShardIndexCache, splitItems } from '../data/manifest-items';
import { ShardCache } from '../data/shard-cache';
import { type ProgressCallback, writeSplit } from '../data/shard-writer';
import { boxMask } from '../masks/boxes';
import { cachedGrabCut } from '../masks/grabcut-cache';
import { GrabCutPool } from '../masks/grabcut-pool';
import type { RawImage } from './ops';
import { toRaw } from './generated';
import { PAIRING_WINDOW_BYTES, windowedPairing } from './pairing';
import { variantEntry } from './registry';
import { VariantPool } from './variant-pool';
import {
  usesPairing,
  type VariantSpec,
  type VariantSpecInput,
  variantLabel,
  variantSpecSchema,
} from './variant-spec';

/** Bump when any variant's pixels would come out different: every variant key changes with it. */
export const VARIANTS_CODE_VERSION = 'variants-1';

/** Decoded dataset shards a materialization keeps by default (a few 64 MB shards; see `cacheBytes`). */
export const VARIANT_CACHE_BYTES = 256 * 2 ** 20;

export interface MaterializeInput {
  datasetManifestKey: string;
  variant: VariantSpecInput | VariantSpec;
  /** Pairing seed for mixed_* and generic_bg (ignored, and not part of the key, for the others). Default 0. */
  seed?: number;
}

export interface MaterializeOptions {
  /** Also write PNG tar shards (for people and other tools). Default false: training reads the raw shards. */
  tar?: boolean;
  /**
   * Store the pixels as raw shards (what every variant was before: ~the dataset's size again per variant).
   * Default false: store only the pairing, and readers compute the pixels (core/variants/generated.ts).
   */
  storePixels?: boolean;
  onProgress?: ProgressCallback;
  /**
   * Paired variants draw donors within windows of consecutive shards of this many raw bytes (pairing.ts): part of
   * what the variant is (its key does not name it), so only tests change it. Default PAIRING_WINDOW_BYTES.
   */
  windowBytes?: number;
  /**
   * Decoded dataset shards kept in memory (sources and donors). Default VARIANT_CACHE_BYTES, so memory does not grow with the
   * dataset; a window larger than this is read more than once (each donor shard once per source shard at most).
   */
  cacheBytes?: number;
  /** A cache shared across calls (the variant activities of one worker share one); overrides `cacheBytes`. */
  cache?: ShardCache;
  /** Worker threads for the pixel work (1: this thread). Outputs are identical for any value. Default 1. */
  threads?: number;
  /** A pool shared across calls (saves the threads' start-up, ~0.3 s each); overrides `threads`, not closed here. */
  pool?: VariantPool;
}

export interface MaterializedVariant {
  manifestKey: string;
  variantHash: string;
  datasetHash: string;
  variant: VariantSpec;
  label: string;
  classes: string[];
  counts: Partial<Record<ManifestSplit, number>>;
  reused: boolean;
}

/** Where a variant lives: `variants/<datasetHash>/<name>/<paramsHash>`. */
export function variantPrefix(datasetHash: string, spec: VariantSpec, seed: number): string {
  const inputs = {
    code: VARIANTS_CODE_VERSION,
    datasetHash,
    spec,
    seed: usesPairing(spec.name) ? seed : undefined,
  };
  return contentKey(`variants/${datasetHash}/${spec.name}`, inputs);
}

/**
 * Makes one variant of every split of a prepared dataset, as raw shards aligned one-to-one with the dataset's
 * shards, plus a manifest recording each output's pairing (`bgFrom`). Idempotent and resumable like
 * prepareDataset. Every source image is decoded once per shard (from the raw shard, no image codec).
 */
export async function materializeVariant(
  store: ArtifactStore,
  input: MaterializeInput,
  options: MaterializeOptions = {},
): Promise<MaterializedVariant> {
  const spec = variantSpecSchema.parse(input.variant);
  const seed = input.seed ?? 0;
  const dataset = await getJson<DataManifest>(store, input.datasetManifestKey);
  const prefix = variantPrefix(dataset.datasetHash, spec, seed);
  const manifestKey = manifestKeyOf(prefix);
  const existing = await tryGetJson<DataManifest>(store, manifestKey);
  if (existing) return summary(manifestKey, existing, spec, true);

  const windowBytes = options.windowBytes ?? PAIRING_WINDOW_BYTES;
  const cache = options.cache ?? new ShardCache(store, options.cacheBytes ?? VARIANT_CACHE_BYTES);
  const pool = options.pool ?? new VariantPool(options.threads ?? 1);
  const indexes = new ShardIndexCache(store);
  const generated = !options.storePixels;
  let grabcut: GrabCutPool | undefined;
  const splits: DataManifest['splits'] = {};
  try {
    for (const split of ['train', 'val'] as const) {
      const data = dataset.splits[split];
      if (!data) continue;
      const from = variantEntry(spec.name).pairing;
      const donors = from === 'none' ? undefined : from === 'generic' ? dataset.splits.generic : data;
      const pairing =
        from !== 'none'
          ? windowedPairing(
              spec.name,
              data,
              await labelsOf(store, data),
              donors,
              dataset.classes.length,
              seed,
              split,
              windowBytes,
            )
          : undefined;
      const starts = shardStarts(data.shards);
      const out = await writeSplit(
        {
          store,
          prefix,
          split,
          units: data.shards.length,
          shardSize: 1,
          tar: options.tar ?? false,
          classes: dataset.classes.length,
          onProgress: options.onProgress,
        },
        async (shardIndex) => {
          const sources = await cache.get(data.shards[shardIndex]!);
          const sourceItems = await indexes.items(data, shardIndex);
          const jobs: { src: RawImage; donor?: RawImage }[] = [];
          const extras: Partial<ItemMeta>[] = [];
          const generate: GeneratedShard = { source: data.shards[shardIndex]!.raw! };
          if (pairing) generate.donors = [];
          // this shard's donors, copied out of their shards: each donor shard read once, none kept past the cache
          const picked =
            pairing && donors
              ? await cache.samplesAt(
                  donors,
                  sources.map((_, j) => pairing[starts[shardIndex]! + j]!),
                )
              : undefined;
          for (let j = 0; j < sources.length; j++) {
            const item = starts[shardIndex]! + j;
            if (pairing && donors && picked) {
              generate.donors!.push(pairing[item]!);
              const d = picked.get(pairing[item]!)!;
              jobs.push({
                src: toRaw(sources[j]!, sourceItems[j]!.bbox),
                donor: toRaw(d, (await indexes.itemAt(donors, pairing[item]!)).bbox),
              });
              extras.push({ bgFrom: d.id });
            } else {
              jobs.push({ src: toRaw(sources[j]!, sourceItems[j]!.bbox) });
              extras.push({});
            }
          }
          const masks = jobs.map((j) => j.src.mask);
          if (spec.name === 'fg_mask_quality' && spec.op === 'grabcut') {
            const gc = await grabCutMasks(
              store,
              () => (grabcut ??= new GrabCutPool(Math.min(4, os.availableParallelism()))),
              jobs,
              spec.k,
            );
            jobs.forEach((j, k) => {
              j.src = { ...j.src, mask: gc.masks[k]! };
              if (gc.errors[k]) extras[k]!.notes = [`GrabCut failed (${gc.errors[k]}); the box was used`];
            });
            generate.grabcut = gc.key;
          }
          const outputs = await pool.apply(spec, jobs);
          const samples: Sample[] = sources.map((s, j) => ({
            id: s.id,
            label: s.label,
            width: s.width,
            height: s.height,
            rgb: outputs[j]!,
            mask: masks[j]!,
          }));
          // the pixels are computed here anyway: the index records each output's hash (as the stored shards did)
          return { samples, extras, skipped: [], generate: generated ? generate : undefined };
        },
      );
      splits[split] = out.data;
    }
  } finally {
    if (!options.pool) await pool.close();
    await grabcut?.close();
  }
  const manifest: DataManifest = {
    version: 2,
    kind: 'variant',
    hash: prefix.split('/').pop()!,
    datasetHash: dataset.datasetHash,
    classes: dataset.classes,
    splits,
    skipped: [],
    codeVersion: VARIANTS_CODE_VERSION,
    variant: spec,
    seed: usesPairing(spec.name) ? seed : undefined,
    generatedFrom: generated ? input.datasetManifestKey : undefined,
  };
  await putJson(store, manifestKey, manifest);
  return summary(manifestKey, manifest, spec, false);
}

function summary(
  manifestKey: string,
  m: DataManifest,
  spec: VariantSpec,
  reused: boolean,
): MaterializedVariant {
  const counts: MaterializedVariant['counts'] = {};
  for (const [name, data] of Object.entries(m.splits) as [ManifestSplit, SplitData][])
    counts[name] = data.count;
  return {
    manifestKey,
    variantHash: m.hash,
    datasetHash: m.datasetHash,
    variant: spec,
    label: variantLabel(spec),
    classes: m.classes,
    counts,
    reused,
  };
}

/**
 * GrabCut masks from each image's mask box (content-keyed batches, shared with datasets that compare GrabCut
 * masks on the same images). Where GrabCut fails the box is used, and the item's notes say so.
 */
async function grabCutMasks(
  store: ArtifactStore,
  pool: () => GrabCutPool,
  jobs: { src: RawImage }[],
  iterations: number,
): Promise<{ masks: Uint8Array[]; errors: (string | undefined)[]; key?: string }> {
  const { results, key } = await cachedGrabCut(
    store,
    pool,
    jobs.map(({ src }) => ({
      width: src.width,
      height: src.height,
      rgb: src.rgb,
      boxes: [src.bbox],
      params: { iterations, margin: 0 },
    })),
  );
  return {
    masks: results.map(
      (r, k) => r.mask ?? boxMask([jobs[k]!.src.bbox], jobs[k]!.src.width, jobs[k]!.src.height),
    ),
    errors: results.map((r) => r.error),
    key,
  };
}

/** The label of every item of a split, in order (read shard by shard). */
async function labelsOf(store: ArtifactStore, data: SplitData): Promise<number[]> {
  const labels: number[] = [];
  for await (const items of splitItems(store, data)) for (const it of items) labels.push(it.label);
  return labels;
}

function shardStarts(shards: ShardRef[]): number[] {
  const starts: number[] = [];
  let n = 0;
  for (const s of shards) {
    starts.push(n);
    n += s.count;
  }
  return starts;
}
