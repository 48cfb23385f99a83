import { z } from 'zod';
import type { TrainRunInput, TrainRunOutput } from '../common/contracts';
import { SpecValidationError } from '../common/errors';
import type { ManifestSplit } from '../core/data/manifest';
import type { SampleSource } from '../core/data/sample';
import { openSampleSource } from '../core/data/sample-source';
import { runKey, StoreCheckpoints, TRAIN_CODE_VERSION } from '../core/ml/checkpoint-store';
import { InProcessTrainer } from '../core/ml/in-process-trainer';
import { saveModel } from '../core/ml/model-artifact';
import { ARCHITECTURES, type ModelSpec } from '../core/ml/model-spec';
import { backendInfo, RESULTS_SCHEMA, type TrainSummary } from '../core/ml/results';
import { batchesPerEpoch, train, type TrainConfig, type TrainProgress } from '../core/ml/train';
import type { OptimizerSpec, StepTrainer } from '../core/ml/trainer';
import type { ArtifactStore } from '../store';
import { putJson, tryGetJson } from '../store/json';
import { activityHooks } from './activity-context';
import { parseInput } from './parse-input';

export const modelSpecSchema = z
  .object({
    arch: z.enum(ARCHITECTURES),
    inputSize: z.number().int().min(8).max(1024),
    numClasses: z.number().int().min(2),
    seed: z.number().int().min(0),
  })
  .strict();

/** common/contracts.ts TrainRunInput, validated. */
export const trainRunInputSchema = z.object({
  runId: z.string().min(1),
  label: z.string(),
  modelSpec: modelSpecSchema,
  trainManifestKey: z.string().min(1),
  valManifestKey: z.string().min(1),
  epochs: z.number().int().min(1),
  batch: z.number().int().min(2),
  optimizer: z
    .object({
      name: z.enum(['adam', 'sgd']),
      learningRate: z.number().positive(),
      momentum: z.number().min(0).max(1).optional(),
    })
    .strict(),
  augment: z.boolean(),
  seed: z.number().int().min(0),
  checkpointEveryBatches: z.number().int().min(0),
});

/** The heartbeat of trainModel: after every batch. */
export type TrainHeartbeat = TrainProgress;

export type MakeTrainer = (model: ModelSpec, optimizer: OptimizerSpec) => StepTrainer | Promise<StepTrainer>;
export type OpenSource = (
  store: ArtifactStore,
  manifestKey: string,
  split: ManifestSplit,
) => Promise<SampleSource>;

/** The training config a contract input means: augmentation = shifts of 1/16 of the side plus flips. */
export function trainConfigOf(input: z.output<typeof trainRunInputSchema>): TrainConfig {
  return {
    epochs: input.epochs,
    batchSize: input.batch,
    seed: input.seed,
    optimizer: input.optimizer,
    augment: input.augment
      ? { shift: Math.max(1, Math.round(input.modelSpec.inputSize / 16)), flip: true }
      : null,
    checkpointEvery: input.checkpointEveryBatches,
  };
}

/** Training activities. `makeTrainer` picks how steps run (default: in-process on the active tfjs backend). */
export function createTrainActivities(deps: {
  store: ArtifactStore;
  makeTrainer?: MakeTrainer;
  openSource?: OpenSource;
}) {
  const { store } = deps;
  const makeTrainer: MakeTrainer = deps.makeTrainer ?? ((m, o) => new InProcessTrainer(m, o));
  const openSource: OpenSource = deps.openSource ?? openSampleSource;

  return {
    /**
     * Trains one model on the train split of `trainManifestKey`, validating on the val split of `valManifestKey`
     * after every epoch; checkpoints into `runs/<hash>/ckpt/` every `checkpointEveryBatches` batches and every
     * epoch; heartbeats {epoch, batch, batchesPerEpoch, loss, acc}. A retry (or a rerun after a crash) resumes
     * from the newest checkpoint; a finished run returns at once. The final weights and a TrainSummary
     * (curves, backend, seeds) are written under the run's folder.
     */
    async trainModel(raw: TrainRunInput): Promise<TrainRunOutput> {
      const input = parseInput(trainRunInputSchema, raw, 'trainModel');
      const config = trainConfigOf(input);
      const data = { train: `${input.trainManifestKey}#train`, val: `${input.valManifestKey}#val` };
      const run = runKey({ model: input.modelSpec, data, config });
      const summaryKey = `${run}/train.json`;
      const done = await tryGetJson<TrainSummary>(store, summaryKey);
      if (done) {
        return {
          runId: input.runId,
          modelKey: done.modelKey,
          curves: done.curves,
          backend: done.backend.name,
          resumedFrom: null,
          batchesTrainedThisAttempt: 0,
          batchesTotal: done.batchesTotal,
          reused: true,
        };
      }

      const hooks = activityHooks();
      const [trainSource, valSource] = await Promise.all([
        openSource(store, input.trainManifestKey, 'train'),
        openSource(store, input.valManifestKey, 'val'),
      ]);
      for (const [key, src] of [
        [input.trainManifestKey, trainSource],
        [input.valManifestKey, valSource],
      ] as const) {
        if (src.classes.length !== input.modelSpec.numClasses) {
          throw new SpecValidationError(
            `${key} has ${src.classes.length} classes, the model spec says ${input.modelSpec.numClasses}`,
          );
        }
      }
      const batchesTotal = config.epochs * batchesPerEpoch(trainSource.count(), config.batchSize);
      const checkpoints = new StoreCheckpoints(store, run);
      const resume = await checkpoints.latest();
      const trainer = await makeTrainer(input.modelSpec, config.optimizer);
      try {
        hooks.info('trainModel', {
          run,
          backend: trainer.backend,
          resumeFrom: resume?.cursor ?? null,
          attempt: hooks.attempt,
        });
        const out = await train(trainer, { train: trainSource, val: valSource }, config, {
          resume,
          signal: hooks.signal,
          saveCheckpoint: async (c) => void (await checkpoints.save(c)),
          onBatch: (p) => hooks.heartbeat(p satisfies TrainHeartbeat),
          onEpoch: (m) => hooks.info('epoch done', { run, ...m }),
        });
        const state = await trainer.getState();
        const modelKey = await saveModel(
          store,
          `${run}/final`,
          input.modelSpec,
          state.weights,
          trainer.backend,
        );
        const summary: TrainSummary = {
          schema: RESULTS_SCHEMA,
          kind: 'train',
          runKey: run,
          runId: input.runId,
          label: input.label,
          modelKey,
          modelSpec: input.modelSpec,
          config,
          data,
          curves: out.curves,
          batchesTotal,
          backend: backendInfo(trainer.backend),
          seeds: { model: input.modelSpec.seed, train: config.seed },
          codeVersion: TRAIN_CODE_VERSION,
        };
        await putJson(store, summaryKey, summary);
        return {
          runId: input.runId,
          modelKey,
          curves: out.curves,
          backend: trainer.backend,
          resumedFrom: out.resumedFrom ?? { epoch: 0, batch: 0 },
          batchesTrainedThisAttempt: out.stepsRun,
          batchesTotal,
          reused: false,
        };
      } finally {
        await trainer.dispose();
      }
    },
  };
}
