import type { DatasetPlan } from './dataset-plan';
import type { FetchProgress } from './fetch-archive';
import type { S3PrefixOpener } from './fetch-s3-prefix';
import { folderPlan } from './folder-reader';
import { in9Plan } from './in9-reader';
import { pixelImagenetPlan } from './pixel-imagenet-reader';
import type { SourceSpec } from './source-spec';
import { syntheticPlan } from './synthetic-plan';

export interface ReaderContext {
  /** Where downloaded archives are kept and extracted. */
  cacheDir: string;
  onFetchProgress?: (p: FetchProgress) => void;
  /** Opens an s3:// source prefix; without it, s3:// paths are refused. */
  openS3?: S3PrefixOpener;
}

/** The reader for each source kind: local folders, and for in9 also an s3:// prefix or a .tar.gz URL. */
export async function readerPlan(spec: SourceSpec, ctx: ReaderContext): Promise<DatasetPlan> {
  switch (spec.source) {
    case 'synthetic':
      return syntheticPlan(spec);
    case 'folder':
      return folderPlan(spec);
    case 'in9':
      return in9Plan(spec, ctx);
    case 'pixel-imagenet':
      return pixelImagenetPlan(spec);
  }
}
