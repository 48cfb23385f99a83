import os from 'node:os';
import path from 'node:path';
import type { ArtifactStore } from '../../store/artifact-store';
import { putJson, tryGetJson } from '../../store/json';
import { hashOf } from '../hash';
import { type MaskSummary, summarizeMasks, truncateMaskSummary } from '../masks/mask-summary';
import { maskSourcesOf } from '../masks/mask-spec';
import type { LeakReport } from '../leaks/leak-check';
import type { DatasetPlan } from './dataset-plan';
import type { FetchProgress } from './fetch-archive';
import type { S3PrefixOpener } from './fetch-s3-prefix';
import {
  type DataManifest,
  datasetPrefix,
  type ItemMeta,
  type ManifestSplit,
  manifestKeyOf,
  type SkippedFile,
  type SplitData,
} from './manifest';
import { readerPlan } from './readers';
import { defaultShardSize, type ProgressCallback, writeSplit } from './shard-writer';
import { type SourceSpec, type SourceSpecInput, sourceSpecSchema } from './source-spec';

/**
 * Bump when prepared datasets would come out different: every dataset hash changes with it.
 * data-3: manifests carry mask checks (core/masks); pixel limits, raster-only decoding and name rules skip more.
 */
export const DATA_CODE_VERSION = 'data-3';

export interface PrepareOptions {
  /** Also write WebDataset-style tar shards (PNG + mask PNG + JSON) for other tools. Default false. */
  tar?: boolean;
  /** Images per shard; default ~64 MB of raw pixels (100..1000 images). */
  shardSize?: number;
  onProgress?: ProgressCallback;
  /** Where a source fetched from a URL is downloaded and extracted. Default: <tmpdir>/bgstudy-cache. */
  cacheDir?: string;
  onFetchProgress?: (p: FetchProgress) => void;
  /** Opens s3:// source prefixes (e.g. an S3ArtifactStore on the same endpoint as the artifact store). */
  openS3?: S3PrefixOpener;
  /** GrabCut worker threads (masks from boxes); default min(4, available cores). */
  maskThreads?: number;
}

/** The small JSON a prepare returns (and an activity passes on): keys and counts, never pixels. */
export interface PreparedDataset {
  manifestKey: string;
  datasetHash: string;
  classes: string[];
  counts: Partial<Record<ManifestSplit, number>>;
  skippedCount: number;
  /** The first 20 skipped files; all of them are in the manifest. */
  skipped: SkippedFile[];
  /** True when the dataset was already in the store. */
  reused: boolean;
  /** Real sources: mask sources, checks and IoU, with the first 20 flagged masks (all are in the manifest). */
  masks?: MaskSummary;
  /** What non-CNN learners read from background-only images (core/leaks); added by the dataset stage. */
  leaks?: LeakReport;
}

/** Content address of a dataset: code version, parsed spec and a fingerprint of the input files. */
export function datasetHashOf(spec: SourceSpec, fingerprint: unknown): string {
  return hashOf({ code: DATA_CODE_VERSION, spec, fingerprint });
}

/**
 * Turns any dataset source into the normalized form: raw (+tar) shards per split and a manifest at
 * `datasets/<hash>/manifest.json`. Idempotent (an existing manifest returns at once) and resumable (finished
 * shards are found and kept). Bad images are skipped and listed in the manifest, never fatal.
 */
export async function prepareDataset(
  store: ArtifactStore,
  input: SourceSpecInput | SourceSpec,
  options: PrepareOptions = {},
): Promise<PreparedDataset> {
  const spec = sourceSpecSchema.parse(input);
  const plan: DatasetPlan = await readerPlan(spec, {
    cacheDir: options.cacheDir ?? path.join(os.tmpdir(), 'bgstudy-cache'),
    onFetchProgress: options.onFetchProgress,
    openS3: options.openS3,
    store,
    maskThreads: options.maskThreads,
  });
  try {
    return await prepareFromPlan(store, spec, plan, options);
  } finally {
    await plan.close?.();
  }
}

async function prepareFromPlan(
  store: ArtifactStore,
  spec: SourceSpec,
  plan: DatasetPlan,
  options: PrepareOptions,
): Promise<PreparedDataset> {
  const hash = datasetHashOf(spec, plan.fingerprint);
  const prefix = datasetPrefix(hash);
  const manifestKey = manifestKeyOf(prefix);
  const existing = await tryGetJson<DataManifest>(store, manifestKey);
  if (existing) return summarize(manifestKey, existing, true);

  const shardSize = Math.min(
    options.shardSize ?? defaultShardSize(plan.approxSize, plan.approxSize),
    plan.maxShardSize ?? Infinity,
  );
  const splits: DataManifest['splits'] = {};
  const skipped = [...plan.skipped];
  // the mask summary reads every train and val item; otherwise items stay in the shards' index files
  const masked: Partial<Record<ManifestSplit, ItemMeta[]>> = {};
  for (const sp of plan.splits) {
    const out = await writeSplit(
      {
        store,
        prefix,
        split: sp.split,
        units: sp.units,
        shardSize,
        tar: options.tar ?? false,
        classes: plan.classes.length,
        keepItems: plan.masks !== undefined && sp.split !== 'generic',
        onProgress: options.onProgress,
      },
      (start, end) => sp.make(start, end),
    );
    splits[sp.split] = out.data;
    skipped.push(...out.skipped);
    if (out.items) masked[sp.split] = out.items;
  }
  const manifest: DataManifest = {
    version: 2,
    kind: 'dataset',
    hash,
    datasetHash: hash,
    classes: plan.classes,
    splits,
    skipped,
    codeVersion: DATA_CODE_VERSION,
    source: spec,
  };
  if (plan.masks) {
    const m = plan.masks;
    const sources = maskSourcesOf(m, spec.source !== 'folder' || spec.maskPath !== undefined);
    manifest.masks = summarizeMasks({
      use: m.use,
      sources,
      boxes: sources.some((s) => s !== 'provided') ? (m.boxes?.format ?? 'mask') : undefined,
      grabcut: sources.includes('grabcut') ? m.grabcut : undefined,
      checks: m.checks,
      items: [...(masked.train ?? []), ...(masked.val ?? [])],
      skipped,
    });
  }
  await putJson(store, manifestKey, manifest);
  return summarize(manifestKey, manifest, false);
}

export function summarize(manifestKey: string, m: DataManifest, reused: boolean): PreparedDataset {
  const counts: PreparedDataset['counts'] = {};
  for (const [name, data] of Object.entries(m.splits) as [ManifestSplit, SplitData][])
    counts[name] = data.count;
  return {
    manifestKey,
    datasetHash: m.datasetHash,
    classes: m.classes,
    counts,
    skippedCount: m.skipped.length,
    skipped: m.skipped.slice(0, 20),
    reused,
    ...(m.masks ? { masks: truncateMaskSummary(m.masks) } : {}),
  };
}
