import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/sample';
import type { ChallengeOutcome } from './challenge';
import type { Evaluation } from './evaluate';
import { bgGap } from './metrics';
import type { TrainableModelSpec } from './model-spec';
import type { SaliencyOutcome } from './saliency';
import type { EpochMetrics, TrainConfig } from './train';

/**
 * The JSON the training and evaluation stages write and the report reads. Every document carries `schema`
 * and `kind`; numbers are plain fractions in [0, 1] (not percent); class indices refer to `classes`.
 */
export const RESULTS_SCHEMA = 'bgstudy.results/v1';

/** Bump when evaluation changes what it computes for the same model and data. */
export const EVAL_CODE_VERSION = 'eval-v1';

/** What ran the math; stored with every result so numbers from different backends are never mixed up silently. */
export interface BackendInfo {
  /** As the trainer reports it, e.g. "cpu", "wasm (2 workers)", "tensorflow". */
  name: string;
  /** tf.version: every tfjs package and its version. */
  versions: Record<string, string>;
  node: string;
  platform: string;
  arch: string;
}

export function backendInfo(name: string = tf.getBackend()): BackendInfo {
  return {
    name,
    versions: { ...tf.version },
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}

/** One training run: written by trainModel to `<runKey>/train.json`. */
export interface TrainSummary {
  schema: typeof RESULTS_SCHEMA;
  kind: 'train';
  runKey: string;
  /** The workflow's id and display label of the run (e.g. "small_cnn on mixed_rand, seed 1"). */
  runId: string;
  label: string;
  /** model.json of the final weights (core/ml/model-artifact.ts). */
  modelKey: string;
  /** The architecture trained here, or the fine-tuned pretrained model (arch 'finetune'). */
  modelSpec: TrainableModelSpec;
  config: TrainConfig;
  /** Artifact keys of the training and validation data. */
  data: { train: string; val: string };
  /** One row per epoch. */
  curves: EpochMetrics[];
  /** Optimizer steps of the whole run (epochs x batches per epoch). */
  batchesTotal: number;
  backend: BackendInfo;
  /** Model initializer seed and data-order/augmentation seed. */
  seeds: { model: number; train: number };
  codeVersion: string;
}

/** A model's accuracy on one test variant: written by evaluateModel. */
export interface VariantEvaluation extends Evaluation {
  schema: typeof RESULTS_SCHEMA;
  kind: 'evaluation';
  modelKey: string;
  /** The workflow's variant id (one pairing of a mixed_* variant has its own id). */
  variant: string;
  /** Manifest of the test data; the val split is evaluated. */
  dataKey: string;
  split: Split;
  classes: string[];
  backend: BackendInfo;
  codeVersion: string;
}

/** The backgrounds challenge of one model: written by runChallenge. */
export interface ChallengeResult extends ChallengeOutcome {
  schema: typeof RESULTS_SCHEMA;
  kind: 'challenge';
  modelKey: string;
  /** Masked foregrounds (e.g. original val) and the background pool (only_bg_t val). */
  foregroundsKey: string;
  backgroundsKey: string;
  backend: BackendInfo;
  codeVersion: string;
}

/** Gradient saliency of one model on one variant's fixed sample grid: written by computeSaliency. */
export interface SaliencyResult extends SaliencyOutcome {
  schema: typeof RESULTS_SCHEMA;
  kind: 'saliency';
  modelKey: string;
  variant: string;
  dataKey: string;
  /** Samples per class in the grid (the first ones of each class in stored order). */
  perClass: number;
  /** PNG of each grid image next to its map. */
  gridKey: string;
  /** Input gradients (models trained here) or occlusion (pretrained models without gradients); absent: gradient. */
  method?: 'gradient' | 'occlusion';
  backend: BackendInfo;
  codeVersion: string;
}

/**
 * Everything about one trained model, assembled for the report. `accuracy` and `bgGap` group evaluations by
 * `variant`; callers that evaluate several pairings under distinct ids average them themselves (the workflow
 * does, per test column) or pass the column label as the variant.
 */
export interface ModelResults {
  schema: typeof RESULTS_SCHEMA;
  kind: 'model';
  train: TrainSummary;
  /** Every evaluation, possibly several per variant name (re-pairings of mixed_*). */
  evaluations: VariantEvaluation[];
  /** Per test variant name: the accuracies of its evaluations and their mean (the Xiao table's cell). */
  accuracy: Record<string, { mean: number; values: number[] }>;
  /**
   * mean acc(mixed_same) - mean acc(mixed_rand), each averaged over its re-pairings (one pairing swings
   * accuracy by several points on small data); null unless both were evaluated.
   */
  bgGap: number | null;
  challenge: ChallengeResult | null;
  saliency: SaliencyResult[];
}

export function assembleModelResults(
  train: TrainSummary,
  evaluations: VariantEvaluation[],
  challenge: ChallengeResult | null = null,
  saliency: SaliencyResult[] = [],
): ModelResults {
  const accuracy: ModelResults['accuracy'] = {};
  for (const e of evaluations) {
    const cell = (accuracy[e.variant] ??= { mean: 0, values: [] });
    cell.values.push(e.accuracy);
    cell.mean = cell.values.reduce((a, b) => a + b, 0) / cell.values.length;
  }
  const same = accuracy.mixed_same;
  const rand = accuracy.mixed_rand;
  return {
    schema: RESULTS_SCHEMA,
    kind: 'model',
    train,
    evaluations,
    accuracy,
    bgGap: same && rand ? bgGap(same.mean, rand.mean) : null,
    challenge,
    saliency,
  };
}
