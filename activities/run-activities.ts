import type {
  ChallengeInput,
  ChallengeOutput,
  EvaluateInput,
  EvaluateOutput,
  SaliencyInput,
  SaliencyOutput,
  TrainEvalActivities,
  TrainRunInput,
  TrainRunOutput,
} from '../common/contracts';
import { log } from '@temporalio/activity';
import { createTrainer } from '../core/backend/create-trainer';
import { initBackend, type BackendInfo } from '../core/backend/select-backend';
import { openSampleSource } from '../core/data/sample-source';
import type { ChallengeResult, SaliencyResult, TrainSummary, VariantEvaluation } from '../core/ml/results';
import { sampleGrid } from '../core/ml/saliency';
import { saliencyGridPng } from '../core/ml/saliency-grid';
import type { ArtifactStore } from '../store';
import { getJson } from '../store';
import { createEvaluateActivities } from './evaluate';
import { createTrainActivities, type MakeTrainer } from './train';

/** A variant id or label as a key segment: `mixed_rand#1001` -> `mixed_rand_1001`, `bg_blur(sigma=2)` -> `bg_blur_sigma=2_`. */
export function keySafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._=+-]/g, '_');
}

/**
 * The training/evaluation activities as the workflows call them (common/contracts.ts): each runs the stored,
 * resumable activity of activities/train.ts or activities/evaluate.ts, then reads its stored result so the
 * workflow gets the few numbers the report needs (curves, accuracies, confusion) without a store of its own.
 */
export function createRunActivities(deps: {
  store: ArtifactStore;
  makeTrainer?: MakeTrainer;
}): TrainEvalActivities {
  const { store } = deps;
  // The fastest backend this machine has (BGSTUDY_BACKEND overrides), chosen once per worker process; training
  // goes data-parallel over worker threads on the CPU backends (BGSTUDY_WORKERS, default every core).
  let backend: Promise<BackendInfo> | undefined;
  const ready = () => (backend ??= initBackend({ log: (l) => void log.info(l) }));
  const makeTrainer: MakeTrainer =
    deps.makeTrainer ??
    (async (modelSpec, optimizer) =>
      (await createTrainer({ modelSpec, optimizer, log: (l) => void log.info(l) })).trainer);
  const train = createTrainActivities({ store, makeTrainer });
  const evaluate = createEvaluateActivities(deps);

  return {
    async trainModel(input: TrainRunInput): Promise<TrainRunOutput> {
      await ready();
      const size = input.modelSpec.inputSize;
      const out = await train.trainModel({
        model: input.modelSpec,
        train: { manifestKey: input.trainManifestKey, split: 'train' },
        val: { manifestKey: input.valManifestKey, split: 'val' },
        trainVariant: input.label,
        config: {
          epochs: input.epochs,
          batchSize: input.batch,
          seed: input.seed,
          optimizer: input.optimizer,
          // Pad-and-crop by 1/8 of the side (as CIFAR-style training does) plus horizontal flips.
          augment: input.augment ? { shift: Math.max(1, Math.round(size / 8)), flip: true } : null,
          checkpointEvery: input.checkpointEveryBatches,
        },
      });
      const summary = await getJson<TrainSummary>(store, out.summaryKey);
      const [epoch, batch] = (out.resumedFrom ?? '0-0').split('-').map(Number);
      return {
        runId: input.runId,
        modelKey: out.modelKey,
        curves: summary.curves.map((c) => ({
          epoch: c.epoch,
          trainLoss: c.trainLoss,
          trainAcc: c.trainAcc,
          valLoss: c.valLoss,
          valAcc: c.valAcc,
        })),
        backend: summary.backend.name,
        resumedFrom: out.reused ? null : { epoch: epoch ?? 0, batch: batch ?? 0 },
        batchesTrainedThisAttempt: out.stepsRun,
        batchesTotal: out.stepsRun,
        reused: out.reused,
      };
    },

    async evaluateModel(input: EvaluateInput): Promise<EvaluateOutput> {
      await ready();
      const out = await evaluate.evaluateModel({
        modelKey: input.modelKey,
        variant: keySafe(input.variantId),
        data: { manifestKey: input.manifestKey, split: 'val' },
      });
      const e = await getJson<VariantEvaluation>(store, out.key);
      return {
        variantId: input.variantId,
        n: e.n,
        accuracy: e.accuracy,
        perClassAccuracy: e.perClass.map((c) => c.accuracy ?? 0),
        confusion: e.confusion,
        resultKey: out.key,
      };
    },

    async runChallenge(input: ChallengeInput): Promise<ChallengeOutput> {
      await ready();
      const out = await evaluate.runChallenge({
        modelKey: input.modelKey,
        foregrounds: { manifestKey: input.foregroundManifestKey, split: 'val' },
        backgrounds: { manifestKey: input.backgroundManifestKey, split: 'val' },
        ...(input.backgrounds > 0 ? { maxBackgrounds: input.backgrounds } : {}),
      });
      const c = await getJson<ChallengeResult>(store, out.key);
      return {
        foregrounds: c.foregrounds,
        backgrounds: c.backgrounds,
        adversarialAccuracy: c.adversarialAccuracy,
        vulnerable: c.vulnerable,
        resultKey: out.key,
      };
    },

    async computeSaliency(input: SaliencyInput): Promise<SaliencyOutput> {
      await ready();
      const numClasses = input.modelSpec.numClasses;
      const perClass = Math.max(1, Math.ceil(input.samples / numClasses));
      const out = await evaluate.computeSaliency({
        modelKey: input.modelKey,
        variant: keySafe(input.variantId),
        data: { manifestKey: input.manifestKey, split: 'val' },
        perClass,
      });
      const s = await getJson<SaliencyResult>(store, out.key);
      const gridKey = out.key.replace(/\.json$/, '.png');
      if (!(await store.stat(gridKey))) {
        const source = await openSampleSource(store, input.manifestKey, 'val');
        const samples = await sampleGrid(source, numClasses, perClass);
        await store.put(gridKey, await saliencyGridPng(samples, s.items, s.size), {
          contentType: 'image/png',
        });
      }
      return {
        variantId: input.variantId,
        foregroundShare: s.meanShare ?? Number.NaN,
        gridKey,
        resultKey: out.key,
      };
    },
  };
}
