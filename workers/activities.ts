import { createStudyActivities } from '../activities/study';
import type { ArtifactStore } from '../store';

/** The activities each task queue serves. CPU: data, variants, bookkeeping. GPU: training and evaluation. */
export function cpuActivities(deps: { store: ArtifactStore }) {
  return { ...createStudyActivities(deps) };
}

export function gpuActivities(_deps: { store: ArtifactStore }) {
  return {};
}
