import type { DatasetPlan } from './dataset-plan';
import { folderPlan } from './folder-reader';
import { in9Plan } from './in9-reader';
import { pixelImagenetPlan } from './pixel-imagenet-reader';
import type { SourceSpec } from './source-spec';
import { syntheticPlan } from './synthetic-plan';

/** The reader for each source kind (local folders; S3 prefixes and tar.gz URLs are not read yet). */
export async function readerPlan(spec: SourceSpec): Promise<DatasetPlan> {
  switch (spec.source) {
    case 'synthetic':
      return syntheticPlan(spec);
    case 'folder':
      return folderPlan(spec);
    case 'in9':
      return in9Plan(spec);
    case 'pixel-imagenet':
      return pixelImagenetPlan(spec);
  }
}
