import type { DatasetPlan } from './dataset-plan';
import type { SourceSpec } from './source-spec';
import { syntheticPlan } from './synthetic-plan';

/** The reader for each source kind. */
export async function readerPlan(spec: SourceSpec): Promise<DatasetPlan> {
  switch (spec.source) {
    case 'synthetic':
      return syntheticPlan(spec);
    default:
      throw new Error(`source "${spec.source}" is not implemented yet`);
  }
}
