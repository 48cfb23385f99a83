import { createDatasetActivities } from '../activities/dataset';
import { createReportActivities } from '../activities/report';
import { createGpuActivities } from '../activities/gpu-activities';
import { createStudyActivities } from '../activities/study';
import { createVariantActivities } from '../activities/variants';
import type { ArtifactStore } from '../store';

export interface ActivityDeps {
  store: ArtifactStore;
  /** Local folder for report files (embedded mode); workers on other machines leave them in the store only. */
  reportRoot?: string;
}

/** The activities each task queue serves. CPU: data, variants, bookkeeping, report. GPU: training and evaluation. */
export function cpuActivities(deps: ActivityDeps) {
  return {
    ...createStudyActivities(deps),
    ...createDatasetActivities(deps),
    ...createVariantActivities(deps),
    ...createReportActivities(deps),
  };
}

export function gpuActivities(deps: ActivityDeps) {
  return { ...createGpuActivities(deps) };
}
