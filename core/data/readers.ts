import path from 'node:path';
import type { MaskSpec } from '../masks/mask-spec';
import type { DatasetPlan } from './dataset-plan';
import type { FetchProgress } from './fetch-archive';
import { mirrorS3Prefix, type S3PrefixOpener } from './fetch-s3-prefix';
import { folderPlan } from './folder-reader';
import type { SkippedFile } from './manifest';
import { in9Plan } from './in9-reader';
import { pixelImagenetPlan } from './pixel-imagenet-reader';
import type { MaskStageContext } from './real-plan';
import type { SourceSpec } from './source-spec';
import { syntheticPlan } from './synthetic-plan';

export interface ReaderContext extends MaskStageContext {
  /** Where downloaded archives are kept and extracted. */
  cacheDir: string;
  onFetchProgress?: (p: FetchProgress) => void;
  /** Opens an s3:// source prefix; without it, s3:// paths are refused. */
  openS3?: S3PrefixOpener;
  /** Set by readerPlan: some input was mirrored from S3 (file times then say nothing about the content). */
  mirrored?: boolean;
}

const PATH_FIELDS = ['path', 'maskPath', 'imagesPath', 'masksPath', 'genericPath'] as const;

/** Every s3:// path of a source, mirrored into the cache folder (the readers then see local folders). */
async function localize(
  spec: SourceSpec,
  ctx: ReaderContext,
): Promise<{ spec: SourceSpec; mirrored: boolean; refused: SkippedFile[] }> {
  const out: Record<string, unknown> = { ...spec };
  let mirrored = false;
  const refused: SkippedFile[] = [];
  for (const field of PATH_FIELDS) {
    const value = out[field];
    if (typeof value !== 'string' || !value.startsWith('s3://')) continue;
    if (!ctx.openS3)
      throw new Error(`${spec.source}: ${field} ${value} needs S3 access (bgstudy and the workers pass it)`);
    const mirror = await mirrorS3Prefix(value, ctx.openS3, ctx.cacheDir, ctx.onFetchProgress);
    out[field] = mirror.dir;
    refused.push(...mirror.refused);
    mirrored = true;
  }
  const boxes = (out.masks as MaskSpec | undefined)?.boxes;
  if (boxes && (boxes.format === 'voc-xml' || boxes.format === 'csv' || boxes.format === 'json')) {
    const where = boxes.format === 'voc-xml' ? boxes.path : boxes.file;
    if (where.startsWith('s3://')) {
      if (!ctx.openS3) throw new Error(`${spec.source}: masks.boxes ${where} needs S3 access`);
      // a table file is mirrored with its folder (prefixes are what the mirror copies)
      const openS3 = ctx.openS3;
      const mirrorBoxes = async (prefix: string) => {
        const mirror = await mirrorS3Prefix(prefix, openS3, ctx.cacheDir, ctx.onFetchProgress);
        refused.push(...mirror.refused);
        return mirror.dir;
      };
      const local =
        boxes.format === 'voc-xml'
          ? await mirrorBoxes(where)
          : path.join(await mirrorBoxes(path.posix.dirname(where)), path.posix.basename(where));
      const masks = out.masks as MaskSpec;
      out.masks = {
        ...masks,
        boxes: boxes.format === 'voc-xml' ? { ...boxes, path: local } : { ...boxes, file: local },
      };
      mirrored = true;
    }
  }
  return { spec: out as SourceSpec, mirrored, refused };
}

/** The reader for each source kind: local folders or s3:// prefixes, and for in9 also a .tar.gz URL. */
export async function readerPlan(source: SourceSpec, context: ReaderContext): Promise<DatasetPlan> {
  const local = await localize(source, context);
  const spec = local.spec;
  const ctx = { ...context, mirrored: local.mirrored };
  const plan = await planOf(spec, ctx);
  // objects of an s3:// source that could not be mirrored are reported like bad images
  return local.refused.length ? { ...plan, skipped: [...local.refused, ...plan.skipped] } : plan;
}

async function planOf(spec: SourceSpec, ctx: ReaderContext): Promise<DatasetPlan> {
  switch (spec.source) {
    case 'synthetic':
      return syntheticPlan(spec);
    case 'folder':
      return folderPlan(spec, ctx);
    case 'in9':
      return in9Plan(spec, ctx);
    case 'pixel-imagenet':
      return pixelImagenetPlan(spec, ctx);
  }
}
