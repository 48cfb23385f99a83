import { log } from '@temporalio/activity';
import type { TrainEvalActivities } from '../core/contracts';
import { createTrainer } from '../core/backend/create-trainer';
import { modelEngineId, tfjsEngineId } from '../core/backend/engine-id';
import { initBackend, type BackendInfo } from '../core/backend/select-backend';
import type { ArtifactStore } from '../store';
import { loadEngineSettings } from '../config/engine';
import { configureEngine, type EngineSettings } from '../core/backend/engine-settings';
import { createEvaluateActivities } from './evaluate';
import { createImportModelActivities } from './import-model';
import { createTrainActivities, type MakeTrainer } from './train';

/**
 * The `bgstudy-gpu` queue's activities (training and evaluation) on the fastest tfjs backend of this machine,
 * chosen once per worker process (BGSTUDY_BACKEND overrides). On the CPU backends training goes data-parallel
 * over worker threads (BGSTUDY_WORKERS, default every core).
 */
export function createGpuActivities(deps: {
  store: ArtifactStore;
  makeTrainer?: MakeTrainer;
  /** Engine settings (default: this process's environment, read here once). */
  engine?: EngineSettings;
}): TrainEvalActivities {
  configureEngine(deps.engine ?? loadEngineSettings());
  let backend: Promise<BackendInfo> | undefined;
  const ready = () => (backend ??= initBackend({ log: (l) => void log.info(l) }));
  const makeTrainer: MakeTrainer =
    deps.makeTrainer ??
    (async (modelSpec, optimizer) =>
      (await createTrainer({ modelSpec, optimizer, log: (l) => void log.info(l) })).trainer);
  // The run key names the engine createTrainer picks (an injected makeTrainer trains on tfjs).
  const engine = deps.makeTrainer ? tfjsEngineId : () => modelEngineId();
  const train = createTrainActivities({ store: deps.store, makeTrainer, engine });
  const evaluate = createEvaluateActivities(deps);
  const imports = createImportModelActivities(deps);
  return {
    trainModel: async (input) => (await ready(), train.trainModel(input)),
    importModel: async (input) => (await ready(), imports.importModel(input)),
    finetuneModel: async (input) => (await ready(), train.finetuneModel(input)),
    evaluateModel: async (input) => (await ready(), evaluate.evaluateModel(input)),
    evaluateModelOn: async (input) => (await ready(), evaluate.evaluateModelOn(input)),
    runChallenge: async (input) => (await ready(), evaluate.runChallenge(input)),
    computeSaliency: async (input) => (await ready(), evaluate.computeSaliency(input)),
    computeSaliencyOn: async (input) => (await ready(), evaluate.computeSaliencyOn(input)),
  };
}
