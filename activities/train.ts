import { z } from 'zod';
import type * as tf from '@tensorflow/tfjs';
import type { FinetuneRunInput, TrainRunInput, TrainRunOutput } from '../core/contracts';
import { SpecValidationError } from '../common/errors';
import type { ManifestSplit } from '../core/data/manifest';
import type { Sample, SampleSource } from '../core/data/sample';
import { openSampleSource } from '../core/data/sample-source';
import { tfjsEngineId } from '../core/backend/engine-id';
import { selectedBackend } from '../core/backend/select-backend';
import { runKey, StoreCheckpoints, TRAIN_CODE_VERSION } from '../core/ml/checkpoint-store';
import { loadFinetuneBase, outputCount, prepareFinetuneModel, saveFinetuned } from '../core/ml/finetune';
import { ContextHeadTrainer } from '../core/ml/context-head';
import { InProcessTrainer } from '../core/ml/in-process-trainer';
import { saveModel } from '../core/ml/model-artifact';
import {
  ARCHITECTURES,
  type FinetuneModelSpec,
  type ModelSpec,
  type TrainableModelSpec,
} from '../core/ml/model-spec';
import { ModelInputError, type PretrainedArtifact } from '../core/ml/pretrained';
import { backendInfo, RESULTS_SCHEMA, type TrainSummary } from '../core/ml/results';
import { batchSchema } from '../core/ml/batch';
import { batchesPerEpoch, train, type TrainConfig, type TrainProgress } from '../core/ml/train';
import type { OptimizerSpec, StepTrainer } from '../core/ml/trainer';
import type { ArtifactStore } from '../store';
import { getJson, putJson, tryGetJson } from '../store/json';
import { activityHooks } from './activity-context';
import { resolveContext, type ResolvedContext } from './context-labels';
import { stopReason } from './attempt-guard';
import { parseInput } from './parse-input';

export const modelSpecSchema = z
  .object({
    arch: z.enum(ARCHITECTURES),
    inputSize: z.number().int().min(8).max(1024),
    numClasses: z.number().int().min(2),
    seed: z.number().int().min(0),
  })
  .strict();

/** core/contracts.ts TrainRunInput, validated. */
export const trainRunInputSchema = z.object({
  runId: z.string().min(1),
  label: z.string(),
  modelSpec: modelSpecSchema,
  trainManifestKey: z.string().min(1),
  valManifestKey: z.string().min(1),
  epochs: z.number().int().min(1),
  batch: batchSchema,
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
  context: z
    .object({
      label: z.enum(['background', 'cooccurring', 'file']),
      file: z.string().min(1).optional(),
      weight: z.number().positive(),
    })
    .refine((c) => (c.label === 'file') === (c.file !== undefined), {
      message: 'a context file goes with label "file", and only with it',
    })
    .optional(),
});

/** core/contracts.ts FinetuneRunInput, validated. */
export const finetuneRunInputSchema = z.object({
  runId: z.string().min(1),
  label: z.string(),
  baseModelKey: z.string().min(1),
  trainManifestKey: z.string().min(1),
  valManifestKey: z.string().min(1),
  epochs: z.number().int().min(1),
  batch: batchSchema,
  optimizer: trainRunInputSchema.shape.optimizer,
  augment: z.boolean(),
  seed: z.number().int().min(0),
  checkpointEveryBatches: z.number().int().min(0),
  head: z.enum(['replace', 'keep']),
  trainable: z.enum(['all', 'head']),
});

/** The heartbeat of trainModel: after every batch. */
/** A training heartbeat: the loop's progress and the images per second of this attempt (for `bgstudy status`). */
export type TrainHeartbeat = TrainProgress & { imagesPerSec?: number };

/** Images per second since this attempt's first batch (the first batch, with its warm-up, only starts the clock). */
function trainingPace(batchSize: number): { imagesPerSec(): number | undefined } {
  let start: number | undefined;
  let batches = 0;
  return {
    imagesPerSec: () => {
      const now = performance.now();
      if (start === undefined) {
        start = now;
        return undefined;
      }
      batches++;
      return now > start ? (batches * batchSize * 1000) / (now - start) : undefined;
    },
  };
}

export type MakeTrainer = (model: ModelSpec, optimizer: OptimizerSpec) => StepTrainer | Promise<StepTrainer>;
export type OpenSource = (
  store: ArtifactStore,
  manifestKey: string,
  split: ManifestSplit,
) => Promise<SampleSource>;

/** The training config a contract input means: augmentation = pad-and-crop by 1/8 of the side (CIFAR-style) plus flips. */
export function trainConfigOf(input: z.output<typeof trainRunInputSchema>): TrainConfig {
  return {
    epochs: input.epochs,
    batchSize: input.batch,
    seed: input.seed,
    optimizer: input.optimizer,
    augment: input.augment
      ? { shift: Math.max(1, Math.round(input.modelSpec.inputSize / 8)), flip: true }
      : null,
    checkpointEvery: input.checkpointEveryBatches,
  };
}

/** What every training run (from scratch or a fine-tune) has once its inputs are resolved. */
interface ResolvedRun {
  runId: string;
  label: string;
  /** The run's folder (core/ml/checkpoint-store.ts runKey). */
  run: string;
  modelSpec: TrainableModelSpec;
  config: TrainConfig;
  data: { train: string; val: string };
  sources: { train: SampleSource; val: SampleSource };
  makeTrainer: () => Promise<StepTrainer>;
  /** Why the run trains on another engine than the worker's, added to the engine named in its results. */
  engineNote?: string;
  /** A context head's label per training image (by sample id) and what train.json says of it. */
  context?: { of: (s: Sample) => number; summary: NonNullable<TrainSummary['context']> };
  /** Stores the final model; returns its key. */
  save: (trainer: StepTrainer) => Promise<string>;
}

function reusedOutput(runId: string, done: TrainSummary): TrainRunOutput {
  return {
    runId,
    modelKey: done.modelKey,
    curves: done.curves,
    backend: done.backend.name,
    resumedFrom: null,
    batchesTrainedThisAttempt: 0,
    batchesTotal: done.batchesTotal,
    reused: true,
  };
}

/**
 * Runs the training loop for a resolved run: resumes from its newest checkpoint, heartbeats every batch,
 * checkpoints, then stores the model and `<run>/train.json`.
 */
async function runTraining(store: ArtifactStore, r: ResolvedRun): Promise<TrainRunOutput> {
  const hooks = activityHooks();
  const { config } = r;
  const batchesTotal = config.epochs * batchesPerEpoch(r.sources.train.count(), config.batchSize);
  const checkpoints = new StoreCheckpoints(store, r.run);
  const resume = await checkpoints.latest();
  const trainer = await r.makeTrainer();
  const engine = r.engineNote ? `${trainer.backend} (${r.engineNote})` : trainer.backend;
  // Aborts when Temporal cancels the attempt, and also when this worker has not reached Temporal for longer than
  // the heartbeat timeout (attempt-guard: the server has handed the retry to another worker), so a worker cut off
  // from the server stops instead of writing checkpoints beside the retry.
  const signal = hooks.signal;
  try {
    hooks.info('trainModel', {
      run: r.run,
      backend: engine,
      resumeFrom: resume?.cursor ?? null,
      attempt: hooks.attempt,
    });
    const pace = trainingPace(config.batchSize);
    const out = await train(trainer, { ...r.sources, context: r.context?.of }, config, {
      resume,
      signal,
      saveCheckpoint: async (c) => {
        signal?.throwIfAborted();
        await checkpoints.save(c);
      },
      onBatch: (p) => hooks.heartbeat({ ...p, imagesPerSec: pace.imagesPerSec() } satisfies TrainHeartbeat),
      onEpoch: (m) => hooks.info('epoch done', { run: r.run, ...m }),
    });
    signal?.throwIfAborted(); // a stopped attempt writes nothing more
    const modelKey = await r.save(trainer);
    const summary: TrainSummary = {
      schema: RESULTS_SCHEMA,
      kind: 'train',
      runKey: r.run,
      runId: r.runId,
      label: r.label,
      modelKey,
      modelSpec: r.modelSpec,
      config,
      data: r.data,
      curves: out.curves,
      batchesTotal,
      backend: backendInfo(engine),
      seeds: { model: r.modelSpec.seed, train: config.seed },
      ...(r.context ? { context: r.context.summary } : {}),
      codeVersion: TRAIN_CODE_VERSION,
    };
    signal?.throwIfAborted();
    await putJson(store, `${r.run}/train.json`, summary);
    return {
      runId: r.runId,
      modelKey,
      curves: out.curves,
      backend: engine,
      resumedFrom: out.resumedFrom ?? { epoch: 0, batch: 0 },
      batchesTrainedThisAttempt: out.stepsRun,
      batchesTotal,
      reused: false,
    };
  } catch (err) {
    // The SDK logs a cancelled or abandoned attempt at DEBUG only; a stopped attempt must leave a trace.
    if (signal?.aborted)
      hooks.info('trainModel stopped', { run: r.run, attempt: hooks.attempt, reason: stopReason() });
    throw err;
  } finally {
    await trainer.dispose();
  }
}

/** What a run with a context head adds to its ResolvedRun: the labels per image, train.json's note, the engine note. */
function contextRun(context: ResolvedContext): Pick<ResolvedRun, 'context' | 'engineNote'> {
  return {
    context: {
      of: (s) => {
        const k = context.byImage.get(s.id);
        if (k === undefined) throw new SpecValidationError(`no context label for training image ${s.id}`);
        return k;
      },
      summary: { label: context.key.label, weight: context.key.weight, names: context.names },
    },
    ...(selectedBackend()?.name === 'libtorch'
      ? { engineNote: 'a context head trains on tfjs: the libtorch engine builds no second head' }
      : {}),
  };
}

/**
 * Training activities. `makeTrainer` picks how steps run (default: in-process on the active tfjs backend);
 * `engine` names what it trains on, for the run key (default: the tfjs backend, core/backend/engine-id.ts).
 */
export function createTrainActivities(deps: {
  store: ArtifactStore;
  makeTrainer?: MakeTrainer;
  engine?: () => string;
  openSource?: OpenSource;
}) {
  const { store } = deps;
  const makeTrainer: MakeTrainer = deps.makeTrainer ?? ((m, o) => new InProcessTrainer(m, o));
  const engine = deps.engine ?? tfjsEngineId;
  const openSource: OpenSource = deps.openSource ?? openSampleSource;
  const openSources = (trainKey: string, valKey: string) =>
    Promise.all([openSource(store, trainKey, 'train'), openSource(store, valKey, 'val')]);

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
      const context = input.context
        ? await resolveContext(store, input.trainManifestKey, input.context)
        : undefined;
      // A context head trains in this process on tfjs (like a fine-tune): the libtorch engine and the
      // data-parallel workers build one head only. Its key names that engine and the labels it learnt.
      const run = runKey({
        model: input.modelSpec,
        data,
        config,
        engine: context ? tfjsEngineId() : engine(),
        ...(context ? { context: context.key } : {}),
      });
      const done = await tryGetJson<TrainSummary>(store, `${run}/train.json`);
      if (done) return reusedOutput(input.runId, done);

      const [trainSource, valSource] = await openSources(input.trainManifestKey, input.valManifestKey);
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
      return runTraining(store, {
        runId: input.runId,
        label: input.label,
        run,
        modelSpec: input.modelSpec,
        config,
        data,
        sources: { train: trainSource, val: valSource },
        ...(context ? contextRun(context) : {}),
        makeTrainer: async () =>
          context
            ? new ContextHeadTrainer(input.modelSpec, config.optimizer, {
                classes: context.names.length,
                weight: context.key.weight,
              })
            : makeTrainer(input.modelSpec, config.optimizer),
        save: async (trainer) =>
          saveModel(
            store,
            `${run}/final`,
            input.modelSpec,
            // the class model alone: evaluation, the challenge and saliency see an ordinary model
            trainer instanceof ContextHeadTrainer
              ? await trainer.classWeights()
              : (await trainer.getState()).weights,
            trainer.backend,
          ),
      });
    },

    /**
     * Fine-tunes an imported pretrained tfjs LayersModel (`baseModelKey`, from importModel) on one variant, with
     * trainModel's loop, checkpoints, heartbeats and resume. The run key hashes the model's descriptor (its
     * bytes' hash, preprocessing, class map), the fine-tune settings, the data keys and the training code
     * version. Training sees the model's own views and normalization. The result is stored as a tfjs model
     * with a pretrained-model descriptor (`<run>/final/pretrained.json`), which evaluation loads like any
     * imported model (class map identity after a new head). Always in this process on the tfjs backend: the
     * data-parallel workers and the libtorch engine build only the architectures of core/ml/models.ts (on a
     * libtorch worker the result's engine says so).
     */
    async finetuneModel(raw: FinetuneRunInput): Promise<TrainRunOutput> {
      const input = parseInput(finetuneRunInputSchema, raw, 'finetuneModel');
      const base = await getJson<PretrainedArtifact>(store, input.baseModelKey);
      if (base.kind !== 'pretrained')
        throw new Error(`${input.baseModelKey} is not a pretrained model descriptor`);
      if (base.source !== 'tfjs')
        throw new SpecValidationError(`model ${base.name}: ${base.source} models cannot be fine-tuned`);
      const [trainSource, valSource] = await openSources(input.trainManifestKey, input.valManifestKey);
      if (trainSource.classes.join('\n') !== valSource.classes.join('\n'))
        throw new SpecValidationError(
          `${input.trainManifestKey} and ${input.valManifestKey} have different classes`,
        );
      const numClasses = trainSource.classes.length;
      const modelSpec: FinetuneModelSpec = {
        arch: 'finetune',
        base: input.baseModelKey,
        sha256: base.sha256,
        inputSize: base.preprocess.inputSize,
        numClasses,
        head: input.head,
        trainable: input.trainable,
        seed: input.seed,
      };
      const config: TrainConfig = {
        epochs: input.epochs,
        batchSize: input.batch,
        seed: input.seed,
        optimizer: input.optimizer,
        augment: input.augment
          ? { shift: Math.max(1, Math.round(modelSpec.inputSize / 8)), flip: true }
          : null,
        checkpointEvery: input.checkpointEveryBatches,
      };
      const data = { train: `${input.trainManifestKey}#train`, val: `${input.valManifestKey}#val` };
      const run = runKey({ model: modelSpec, data, config, engine: tfjsEngineId() });
      const done = await tryGetJson<TrainSummary>(store, `${run}/train.json`);
      if (done) return reusedOutput(input.runId, done);

      let model: tf.LayersModel | undefined;
      return runTraining(store, {
        runId: input.runId,
        label: input.label,
        run,
        modelSpec,
        config,
        data,
        sources: { train: trainSource, val: valSource },
        ...(selectedBackend()?.name === 'libtorch'
          ? {
              engineNote:
                "fine-tuning runs on tfjs: the libtorch engine builds only core/ml/models.ts's architectures",
            }
          : {}),
        makeTrainer: async () => {
          const userError = (err: unknown): never => {
            if (err instanceof ModelInputError)
              throw new SpecValidationError(`model ${base.name}: ${err.message}`);
            throw err;
          };
          const loaded = await loadFinetuneBase(store, base).catch(userError);
          let prepared: tf.LayersModel;
          try {
            prepared = prepareFinetuneModel(loaded, modelSpec, base.uri).model;
          } catch (err) {
            loaded.dispose();
            return userError(err);
          }
          if (outputCount(prepared) !== numClasses) {
            prepared.dispose();
            throw new SpecValidationError(
              `model ${base.name}: head 'keep' needs one output per class, the model has ${outputCount(prepared)} and the dataset ${numClasses} classes (${trainSource.classes.join(', ')}); use head 'replace'`,
            );
          }
          model = prepared;
          return new InProcessTrainer(modelSpec, config.optimizer, {
            model: prepared,
            preprocess: base.preprocess,
            trainingMode: input.trainable === 'all',
          });
        },
        save: async () =>
          saveFinetuned(
            store,
            `${run}/final`,
            model!,
            { ...base, key: input.baseModelKey },
            {
              name: `${base.name}-ft`,
              classMap: input.head === 'replace' ? 'identity' : base.classMap,
            },
          ),
      });
    },
  };
}
