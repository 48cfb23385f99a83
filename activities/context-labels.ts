import { readFile } from 'node:fs/promises';
import { SpecValidationError } from '../common/errors';
import type { TrainRunInput } from '../core/contracts';
import {
  backgroundContext,
  type ContextLabels,
  contextOfItems,
  cooccurringContext,
  parseContextFile,
} from '../core/data/context-labels';
import { datasetPrefix, type DataManifest, manifestKeyOf } from '../core/data/manifest';
import { allItems } from '../core/data/manifest-items';
import { syntheticSourceSchema } from '../core/data/source-spec';
import { hashOf } from '../core/hash';
import type { ArtifactStore } from '../store';
import { getJson } from '../store/json';

/** A run's context labels, resolved: the label names and, per training image id, its label's index. */
export interface ResolvedContext {
  names: string[];
  byImage: Map<string, number>;
  /** What names the labels in the run key: kind, weight, names and a hash of every image's label. */
  key: { label: string; weight: number; names: string[]; labels: string };
}

/**
 * Reads the labels a context head learns for the train split of `trainManifestKey` (a variant of a dataset, or
 * the dataset): from the dataset's manifest and generator for synthetic data, from the user's file otherwise.
 * Every training image must get one (SpecValidationError otherwise, naming the file and images).
 */
export async function resolveContext(
  store: ArtifactStore,
  trainManifestKey: string,
  context: NonNullable<TrainRunInput['context']>,
): Promise<ResolvedContext> {
  const variant = await getJson<DataManifest>(store, trainManifestKey);
  const dataset =
    variant.kind === 'dataset'
      ? variant
      : await getJson<DataManifest>(
          store,
          variant.generatedFrom ?? manifestKeyOf(datasetPrefix(variant.datasetHash)),
        );
  // item metadata lives in each shard's index (manifests before it listed the items themselves)
  const trainItems = (m: DataManifest) => (m.splits.train ? allItems(store, m.splits.train) : []);
  const items = await trainItems(variant);
  const datasetItems = variant === dataset ? items : await trainItems(dataset);
  let labels: ContextLabels;
  if (context.label === 'file') {
    const file = context.file!;
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new SpecValidationError(`context label file ${file}: ${err.code ?? err.message}`);
    });
    labels = parseContextFile(text, file);
  } else {
    const source = syntheticSourceSchema.safeParse(dataset.source);
    if (!source.success)
      throw new SpecValidationError(`context label "${context.label}" needs a synthetic dataset`);
    labels =
      context.label === 'background'
        ? backgroundContext(datasetItems)
        : cooccurringContext(source.data, datasetItems);
  }
  const byImage = contextOfItems(items, labels);
  return {
    names: labels.names,
    byImage,
    key: {
      label: context.label,
      weight: context.weight,
      names: labels.names,
      labels: hashOf([...byImage].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    },
  };
}
