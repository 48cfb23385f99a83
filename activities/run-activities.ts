import type { TrainEvalActivities } from '../common/contracts';
import { log } from '@temporalio/activity';
import { createTrainer } from '../core/backend/create-trainer';
import { initBackend, type BackendInfo } from '../core/backend/select-backend';
import type { ArtifactStore } from '../store';
import { createEvaluateActivities } from './evaluate';
import { createTrainActivities, type MakeTrainer, type OpenSource } from './train';

/**
 * The training/evaluation activities of the GPU queue (common/contracts.ts TrainEvalActivities): the stored,
 * resumable activities of activities/train.ts and activities/evaluate.ts on the fastest backend this worker has.
 */
export function createRunActivities(deps: {
  store: ArtifactStore;
  makeTrainer?: MakeTrainer;
  openSource?: OpenSource;
}): TrainEvalActivities {
  // The fastest backend this machine has (BGSTUDY_BACKEND overrides), chosen once per worker process; training
  // goes data-parallel over worker threads on the CPU backends (BGSTUDY_WORKERS, default every core).
  let backend: Promise<BackendInfo> | undefined;
  const ready = () => (backend ??= initBackend({ log: (l) => void log.info(l) }));
  const makeTrainer: MakeTrainer =
    deps.makeTrainer ??
    (async (modelSpec, optimizer) =>
      (await createTrainer({ modelSpec, optimizer, log: (l) => void log.info(l) })).trainer);
  const train = createTrainActivities({ ...deps, makeTrainer });
  const evaluate = createEvaluateActivities(deps);

  return {
    trainModel: async (input) => (await ready(), train.trainModel(input)),
    evaluateModel: async (input) => (await ready(), evaluate.evaluateModel(input)),
    runChallenge: async (input) => (await ready(), evaluate.runChallenge(input)),
    computeSaliency: async (input) => (await ready(), evaluate.computeSaliency(input)),
  };
}
