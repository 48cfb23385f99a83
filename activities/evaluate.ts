import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { hashOf } from '../core/hash';
import { openSampleSource } from '../core/data/sample-source';
import { backgroundsChallenge, type ChallengeCursor, loadBackgroundPool } from '../core/ml/challenge';
import { evaluateSource, type Predict } from '../core/ml/evaluate';
import { loadModel, type ModelArtifact } from '../core/ml/model-artifact';
import {
  backendInfo,
  type ChallengeResult,
  EVAL_CODE_VERSION,
  RESULTS_SCHEMA,
  type SaliencyResult,
  type VariantEvaluation,
} from '../core/ml/results';
import { saliencyMaps, sampleGrid } from '../core/ml/saliency';
import type { ArtifactStore } from '../store';
import { getOrCreateJson } from '../store/json';
import { activityHooks } from './activity-context';
import { parseInput } from './parse-input';
import type { OpenSource } from './train';

const dataRef = z
  .object({ manifestKey: z.string().min(1), split: z.enum(['train', 'val', 'generic']).default('val') })
  .strict();

export const evaluateModelInputSchema = z
  .object({
    modelKey: z.string().min(1),
    /** Test variant name as the report shows it, e.g. "mixed_same". */
    variant: z.string().min(1),
    data: dataRef,
    batchSize: z.number().int().min(1).default(64),
  })
  .strict();

export const runChallengeInputSchema = z
  .object({
    modelKey: z.string().min(1),
    /** Masked foregrounds, e.g. the original val split. */
    foregrounds: dataRef,
    /** The background pool, e.g. the only_bg_t val split (Xiao: all of it). */
    backgrounds: dataRef,
    /** Use only the first N backgrounds of the pool (stored order); default all. */
    maxBackgrounds: z.number().int().min(1).optional(),
    batchSize: z.number().int().min(1).default(64),
  })
  .strict();

export const computeSaliencyInputSchema = z
  .object({
    modelKey: z.string().min(1),
    variant: z.string().min(1),
    data: dataRef,
    /** Samples per class in the fixed grid. */
    perClass: z.number().int().min(1).max(64).default(2),
  })
  .strict();

export type EvaluateModelInput = z.input<typeof evaluateModelInputSchema>;
export type RunChallengeInput = z.input<typeof runChallengeInputSchema>;
export type ComputeSaliencyInput = z.input<typeof computeSaliencyInputSchema>;

/** What the evaluation activities return through Temporal: the result's key and its headline number. */
export interface EvalActivityResult {
  key: string;
  /** Accuracy (evaluateModel), adversarial accuracy (runChallenge) or mean saliency share in the mask (computeSaliency). */
  value: number | null;
  reused: boolean;
}

/** `evals/<run hash>/<kind>-<hash of inputs>.json`, next to nothing else of another model. */
function evalKey(modelKey: string, kind: string, inputs: unknown): string {
  const run = /^runs\/([^/]+)\//.exec(modelKey)?.[1] ?? hashOf(modelKey);
  return `evals/${run}/${kind}-${hashOf({ ...(inputs as object), code: EVAL_CODE_VERSION })}.json`;
}

function predictor(model: tf.LayersModel): Predict {
  const size = model.inputs[0]!.shape[1] as number;
  return async (x, n) => {
    const out = tf.tidy(
      () => model.apply(tf.tensor4d(x, [n, size, size, 3]), { training: false }) as tf.Tensor,
    );
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
}

async function withModel<T>(
  store: ArtifactStore,
  modelKey: string,
  f: (model: tf.LayersModel, a: ModelArtifact) => Promise<T>,
): Promise<T> {
  const { model, artifact } = await loadModel(store, modelKey);
  try {
    return await f(model, artifact);
  } finally {
    model.dispose();
  }
}

/** Evaluation activities: accuracy per variant, the backgrounds challenge, saliency. Each result is stored once. */
export function createEvaluateActivities(deps: { store: ArtifactStore; openSource?: OpenSource }) {
  const { store } = deps;
  const openSource: OpenSource = deps.openSource ?? openSampleSource;

  return {
    /** Accuracy, loss, per-class accuracy and confusion matrix of a trained model on one test variant. */
    async evaluateModel(raw: EvaluateModelInput): Promise<EvalActivityResult> {
      const input = parseInput(evaluateModelInputSchema, raw, 'evaluateModel');
      const key = evalKey(input.modelKey, `acc-${input.variant}`, {
        data: input.data,
        modelKey: input.modelKey,
      });
      const hooks = activityHooks();
      const { value, reused } = await getOrCreateJson<VariantEvaluation>(store, key, () =>
        withModel(store, input.modelKey, async (model, artifact) => {
          const source = await openSource(store, input.data.manifestKey, input.data.split);
          const e = await evaluateSource(predictor(model), source, {
            inputSize: artifact.modelSpec.inputSize,
            numClasses: artifact.modelSpec.numClasses,
            batchSize: input.batchSize,
            signal: hooks.signal,
            onProgress: (done, total) => hooks.heartbeat({ done, total }),
          });
          return {
            schema: RESULTS_SCHEMA,
            kind: 'evaluation',
            modelKey: input.modelKey,
            variant: input.variant,
            dataKey: input.data.manifestKey,
            split: input.data.split === 'generic' ? 'val' : input.data.split,
            classes: source.classes,
            ...e,
            backend: backendInfo(),
            codeVersion: EVAL_CODE_VERSION,
          };
        }),
      );
      return { key, value: value.accuracy, reused };
    },

    /** Xiao's backgrounds challenge; heartbeats its cursor after every foreground and resumes from it on retry. */
    async runChallenge(raw: RunChallengeInput): Promise<EvalActivityResult> {
      const input = parseInput(runChallengeInputSchema, raw, 'runChallenge');
      const { batchSize: _b, ...identity } = input;
      const key = evalKey(input.modelKey, 'challenge', identity);
      const hooks = activityHooks();
      const { value, reused } = await getOrCreateJson<ChallengeResult>(store, key, () =>
        withModel(store, input.modelKey, async (model, artifact) => {
          const { inputSize, numClasses } = artifact.modelSpec;
          const [fg, bg] = await Promise.all([
            openSource(store, input.foregrounds.manifestKey, input.foregrounds.split),
            openSource(store, input.backgrounds.manifestKey, input.backgrounds.split),
          ]);
          const pool = await loadBackgroundPool(bg, inputSize, input.maxBackgrounds);
          const cursor = hooks.previousDetails as ChallengeCursor | undefined;
          if (cursor)
            hooks.info('runChallenge: resuming', { fgIdx: cursor.fgIdx, computed: cursor.computed });
          const out = await backgroundsChallenge(predictor(model), fg, pool, {
            inputSize,
            numClasses,
            batchSize: input.batchSize,
            cursor,
            signal: hooks.signal,
            onProgress: (c) => hooks.heartbeat(c),
          });
          return {
            schema: RESULTS_SCHEMA,
            kind: 'challenge',
            modelKey: input.modelKey,
            foregroundsKey: input.foregrounds.manifestKey,
            backgroundsKey: input.backgrounds.manifestKey,
            ...out,
            backend: backendInfo(),
            codeVersion: EVAL_CODE_VERSION,
          };
        }),
      );
      return { key, value: value.adversarialAccuracy, reused };
    },

    /** Gradient saliency maps on the fixed sample grid of one variant, with the share inside the mask. */
    async computeSaliency(raw: ComputeSaliencyInput): Promise<EvalActivityResult> {
      const input = parseInput(computeSaliencyInputSchema, raw, 'computeSaliency');
      const key = evalKey(input.modelKey, `saliency-${input.variant}`, {
        data: input.data,
        modelKey: input.modelKey,
        perClass: input.perClass,
      });
      const { value, reused } = await getOrCreateJson<SaliencyResult>(store, key, () =>
        withModel(store, input.modelKey, async (model, artifact) => {
          const { inputSize, numClasses } = artifact.modelSpec;
          const source = await openSource(store, input.data.manifestKey, input.data.split);
          const out = await saliencyMaps(
            model,
            await sampleGrid(source, numClasses, input.perClass),
            inputSize,
          );
          return {
            schema: RESULTS_SCHEMA,
            kind: 'saliency',
            modelKey: input.modelKey,
            variant: input.variant,
            dataKey: input.data.manifestKey,
            perClass: input.perClass,
            ...out,
            backend: backendInfo(),
            codeVersion: EVAL_CODE_VERSION,
          };
        }),
      );
      return { key, value: value.meanShare, reused };
    },
  };
}
