import { z } from 'zod';
import { SpecValidationError } from '../common/errors';
import type { SampleSource } from '../core/data/sample';
import type { ManifestSplit } from '../core/data/manifest';
import { openSampleSource } from '../core/data/sample-source';
import { runKey, StoreCheckpoints, TRAIN_CODE_VERSION } from '../core/ml/checkpoint-store';
import { InProcessTrainer } from '../core/ml/in-process-trainer';
import { ARCHITECTURES, type ModelSpec } from '../core/ml/model-spec';
import { saveModel } from '../core/ml/model-artifact';
import { backendInfo, RESULTS_SCHEMA, type TrainSummary } from '../core/ml/results';
import { train, type TrainConfig, type TrainProgress } from '../core/ml/train';
import type { OptimizerSpec, StepTrainer } from '../core/ml/trainer';
import type { ArtifactStore } from '../store';
import { putJson, tryGetJson } from '../store/json';
import { activityHooks } from './activity-context';
import { parseInput } from './parse-input';

const dataRef = z
  .object({ manifestKey: z.string().min(1), split: z.enum(['train', 'val', 'generic']) })
  .strict();

export const trainModelInputSchema = z
  .object({
    model: z
      .object({
        arch: z.enum(ARCHITECTURES),
        inputSize: z.number().int().min(8).max(1024),
        numClasses: z.number().int().min(2),
        seed: z.number().int().min(0),
      })
      .strict(),
    train: dataRef,
    val: dataRef,
    /** Name of the variant trained on (recorded in the results), e.g. "mixed_rand". */
    trainVariant: z.string().nullable().default(null),
    config: z
      .object({
        epochs: z.number().int().min(1),
        batchSize: z.number().int().min(2),
        seed: z.number().int().min(0),
        optimizer: z
          .object({
            name: z.enum(['adam', 'sgd']),
            learningRate: z.number().positive(),
            momentum: z.number().min(0).max(1).optional(),
          })
          .strict(),
        augment: z
          .object({ shift: z.number().int().min(0), flip: z.boolean() })
          .strict()
          .nullable(),
        checkpointEvery: z.number().int().min(0),
      })
      .strict(),
  })
  .strict();

export type TrainModelInput = z.input<typeof trainModelInputSchema>;

/** What trainModel returns through Temporal: keys and a few numbers. */
export interface TrainModelResult {
  runKey: string;
  /** model.json of the final weights: the input of every evaluation activity. */
  modelKey: string;
  /** TrainSummary JSON (curves included). */
  summaryKey: string;
  epochs: number;
  finalValAcc: number;
  backend: string;
  /** Where this attempt started ("0-0" for a fresh run), and optimizer steps it ran; absent when reused. */
  resumedFrom: string | null;
  stepsRun: number;
  reused: boolean;
}

/** The heartbeat of trainModel. */
export type TrainHeartbeat = TrainProgress;

export type MakeTrainer = (model: ModelSpec, optimizer: OptimizerSpec) => StepTrainer | Promise<StepTrainer>;
export type OpenSource = (
  store: ArtifactStore,
  manifestKey: string,
  split: ManifestSplit,
) => Promise<SampleSource>;

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
     * Trains one model on one dataset/variant split, checkpointing into `runs/<hash>/ckpt/`; a retry (or a
     * rerun after a crash) resumes from the newest checkpoint and a finished run returns at once.
     */
    async trainModel(rawInput: TrainModelInput): Promise<TrainModelResult> {
      const input = parseInput(trainModelInputSchema, rawInput, 'trainModel');
      const config: TrainConfig = input.config;
      const data = {
        train: `${input.train.manifestKey}#${input.train.split}`,
        val: `${input.val.manifestKey}#${input.val.split}`,
      };
      const run = runKey({ model: input.model, data, config });
      const summaryKey = `${run}/train.json`;
      const done = await tryGetJson<TrainSummary>(store, summaryKey);
      if (done) {
        return {
          runKey: run,
          modelKey: done.modelKey,
          summaryKey,
          epochs: done.curves.length,
          finalValAcc: done.curves.at(-1)?.valAcc ?? 0,
          backend: done.backend.name,
          resumedFrom: null,
          stepsRun: 0,
          reused: true,
        };
      }

      const hooks = activityHooks();
      const [trainSource, valSource] = await Promise.all([
        openSource(store, input.train.manifestKey, input.train.split),
        openSource(store, input.val.manifestKey, input.val.split),
      ]);
      if (trainSource.classes.length !== input.model.numClasses) {
        throw new SpecValidationError(
          `${input.train.manifestKey} has ${trainSource.classes.length} classes, the model spec says ${input.model.numClasses}`,
        );
      }
      const checkpoints = new StoreCheckpoints(store, run);
      const resume = await checkpoints.latest();
      const trainer = await makeTrainer(input.model, config.optimizer);
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
        const modelKey = await saveModel(store, `${run}/final`, input.model, state.weights, trainer.backend);
        const summary: TrainSummary = {
          schema: RESULTS_SCHEMA,
          kind: 'train',
          runKey: run,
          modelKey,
          modelSpec: input.model,
          config,
          data,
          trainVariant: input.trainVariant,
          curves: out.curves,
          backend: backendInfo(trainer.backend),
          seeds: { model: input.model.seed, train: config.seed },
          codeVersion: TRAIN_CODE_VERSION,
        };
        await putJson(store, summaryKey, summary);
        return {
          runKey: run,
          modelKey,
          summaryKey,
          epochs: out.curves.length,
          finalValAcc: out.curves.at(-1)?.valAcc ?? 0,
          backend: trainer.backend,
          resumedFrom: out.resumedFrom ? `${out.resumedFrom.epoch}-${out.resumedFrom.batch}` : '0-0',
          stepsRun: out.stepsRun,
          reused: false,
        };
      } finally {
        await trainer.dispose();
      }
    },
  };
}
