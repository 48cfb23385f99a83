import { stat } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { mapLimit } from '../../common/map-limit';
import type { ArtifactStore } from '../../store/artifact-store';
import { attachBoxes } from '../masks/attach-boxes';
import { GrabCutPool } from '../masks/grabcut-pool';
import { makeMaskedBatch, type MaskedEntry } from '../masks/masked-batch';
import { type MaskSpec, resolveMaskSpec } from '../masks/mask-spec';
import type { DatasetPlan, SplitPlan } from './dataset-plan';
import { BadInputError, checkSides, type DecodeLimits, limitedSharp, readRaster } from './decode';
import type { SkippedFile } from './manifest';
import type { Sample, Split } from './sample';

/** One image of a real dataset, found by a reader's listing (mask: absent when masks come from boxes). */
export interface RealEntry extends MaskedEntry {
  split: Split;
}

/** Where the mask stage keeps GrabCut batches and how many threads it runs GrabCut on. */
export interface MaskStageContext {
  store?: ArtifactStore;
  /** GrabCut worker threads; default min(4, available cores). */
  maskThreads?: number;
}

/** Shard size when GrabCut runs: a shard's work stays well inside a heartbeat interval. */
const GRABCUT_SHARD_SIZE = 100;

/** Images decoded at once: sharp runs each on a libuv thread, so a few in flight use every core. */
const IN_FLIGHT = 4;

/**
 * The plan shared by folder, in9 and pixel-imagenet: decode each listed (image, mask) pair; a bad pair becomes a
 * `skipped` entry naming the file, and the rest go on. `generic` images (no masks) form the generic_bg pool.
 */
export async function realPlan(args: {
  classes: string[];
  entries: RealEntry[];
  generic: string[];
  skipped: SkippedFile[];
  size?: number;
  /** Resource limits of the source spec (maxPixels). */
  limits?: DecodeLimits;
  /** Paths in the fingerprint are relative to this folder, so moving a dataset keeps its hash. */
  root: string;
  /** Include modification times (false for extracted archives, whose content the URL and checksum pin). */
  mtimes?: boolean;
  /** The source's `masks` section (default: its provided masks, checked). */
  masks?: MaskSpec;
  context?: MaskStageContext;
}): Promise<DatasetPlan> {
  const { size } = args;
  const maskSpec = resolveMaskSpec(args.masks);
  const attached = await attachBoxes(args.entries, maskSpec, args.classes);
  const grabcut = maskSpec.use === 'grabcut' || maskSpec.compare.includes('grabcut');
  let pool: GrabCutPool | undefined;
  const threads = args.context?.maskThreads ?? Math.min(4, os.availableParallelism());
  const splits: SplitPlan[] = [];
  for (const split of ['train', 'val'] as const) {
    const entries = attached.entries.filter((e) => e.split === split);
    if (entries.length === 0) continue;
    splits.push({
      split,
      units: entries.length,
      make: (start, end) =>
        makeMaskedBatch(entries.slice(start, end), {
          spec: maskSpec,
          size,
          store: args.context?.store,
          grabcut: () => (pool ??= new GrabCutPool(threads)),
          inFlight: IN_FLIGHT,
          limits: args.limits,
        }),
    });
  }
  if (args.generic.length) {
    const files = args.generic;
    splits.push({
      split: 'generic',
      units: files.length,
      make: async (start, end) => {
        const results = await mapLimit(files.slice(start, end), IN_FLIGHT, async (file) => {
          try {
            return { sample: await decodeBackground(file, size, args.limits) };
          } catch (err) {
            const reason = err instanceof BadInputError ? err.reason : (err as Error).message;
            return { skipped: { file, reason: `cannot decode background: ${reason}` } };
          }
        });
        return {
          samples: results.flatMap((r) => (r.sample ? [r.sample] : [])),
          skipped: results.flatMap((r) => (r.skipped ? [r.skipped] : [])),
        };
      },
    });
  }
  const files = [
    ...attached.entries.flatMap((e) => (e.mask ? [e.image, e.mask] : [e.image])),
    ...attached.files,
    ...args.generic,
  ];
  return {
    classes: args.classes,
    fingerprint: await fingerprint(files, args.root, args.mtimes ?? true),
    splits,
    skipped: [...args.skipped, ...attached.skipped],
    approxSize: size ?? 224,
    masks: maskSpec,
    ...(grabcut ? { maxShardSize: GRABCUT_SHARD_SIZE } : {}),
    close: async () => {
      await pool?.close();
      pool = undefined;
    },
  };
}

async function decodeBackground(file: string, size?: number, limits?: DecodeLimits): Promise<Sample> {
  let pipe = limitedSharp(await readRaster(file, 'background', limits), limits)
    .removeAlpha()
    .toColourspace('srgb');
  if (size) pipe = pipe.resize(size, size, { fit: 'cover' });
  const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
  checkSides(file, 'background', info.width, info.height);
  const id = `generic/${path.basename(file)}`;
  return {
    id,
    label: -1,
    width: info.width,
    height: info.height,
    rgb: new Uint8Array(data),
    mask: new Uint8Array(info.width * info.height),
  };
}

/** Relative names, sizes and modification times of the input files: a changed folder is a new dataset. */
async function fingerprint(files: string[], root: string, mtimes: boolean): Promise<string[]> {
  return mapLimit(files, 32, async (f) => {
    const s = await stat(f).catch(() => undefined);
    const name = path.relative(root, f);
    return s ? `${name}:${s.size}${mtimes ? `:${Math.floor(s.mtimeMs)}` : ''}` : `${name}:missing`;
  });
}
