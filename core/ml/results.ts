import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/sample';
import type { ChallengeOutcome } from './challenge';
import type { Evaluation } from './evaluate';
import type { TrainableModelSpec } from './model-spec';
import type { SaliencyOutcome, SmoothGradOptions } from './saliency';
import type { EpochMetrics, TrainConfig } from './train';

/**
 * The JSON the training and evaluation stages write and the report reads. Every document carries `schema`
 * and `kind`; numbers are plain fractions in [0, 1] (not percent); class indices refer to `classes`.
 */
export const RESULTS_SCHEMA = 'bgstudy.results/v1';

/** Bump when evaluation changes what it computes for the same model and data. */
export const EVAL_CODE_VERSION = 'eval-v2';

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
  /** A second head learnt this context label beside the class (its accuracy per epoch: curves' trainContextAcc). */
  context?: { label: string; weight: number; names: string[] };
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
  /**
   * SmoothGrad (the default for models trained here), plain input gradients, or occlusion (pretrained models
   * without gradients); absent: gradient (results before eval-v2).
   */
  method?: 'gradient' | 'smoothgrad' | 'occlusion';
  /** SmoothGrad's noisy copies and noise level. */
  smoothGrad?: SmoothGradOptions;
  backend: BackendInfo;
  codeVersion: string;
}
