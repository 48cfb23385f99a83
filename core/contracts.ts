/**
 * Payloads between workflows and the training/evaluation activities (task queue `bgstudy-gpu`): artifact keys
 * and small JSON only. Workflows import these types; activities/train.ts and activities/evaluate.ts
 * implement them.
 */
import type { ModelSpec } from './ml/model-spec';
import type { PretrainedModelInput } from './ml/pretrained-spec';
import type { OptimizerSpec } from './ml/trainer';

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
}

/** What every training loop takes (a fresh model or a fine-tune): its data, schedule and checkpoint interval. */
export interface TrainingLoopInput {
  runId: string;
  label: string;
  trainManifestKey: string;
  /** Validation curve source: the same variant's val split. */
  valManifestKey: string;
  epochs: number;
  batch: number;
  optimizer: OptimizerSpec;
  augment: boolean;
  /** Seeds the data order and the augmentation, and the fresh weights (or a fine-tune's new head). */
  seed: number;
  checkpointEveryBatches: number;
}

export interface TrainRunInput extends TrainingLoopInput {
  modelSpec: ModelSpec;
  /** A second head learning this context label beside the class (core/ml/context-head.ts); absent: none. */
  context?: { label: 'background' | 'cooccurring' | 'file'; file?: string; weight: number };
}

/**
 * Fine-tuning an imported pretrained tfjs model (core/ml/finetune.ts) on one variant: the same loop, checkpoints
 * and outputs as TrainRunInput, starting from the model instead of fresh weights.
 */
export interface FinetuneRunInput extends TrainingLoopInput {
  /** The imported model's descriptor key (importModel's modelKey). */
  baseModelKey: string;
  head: 'replace' | 'keep';
  trainable: 'all' | 'head';
}

export interface TrainRunOutput {
  runId: string;
  /** Final weights (a tfjs model artifact prefix in the store). */
  modelKey: string;
  curves: EpochMetrics[];
  /** e.g. "wasm (2 workers)", with versions. */
  backend: string;
  /** Where the last attempt started: 0/0 for a fresh run; the checkpoint it resumed from otherwise. */
  resumedFrom: { epoch: number; batch: number } | null;
  /** Batches trained by the attempt that finished (resume cost is total - this). */
  batchesTrainedThisAttempt: number;
  batchesTotal: number;
  reused: boolean;
}

export interface EvaluateInput {
  modelKey: string;
  /** A model trained here; absent for an imported pretrained model (its key names a models/ descriptor). */
  modelSpec?: ModelSpec;
  manifestKey: string;
  variantId: string;
}

/** One model on several test variants (evaluateModelOn): one activity, the model loaded once. */
export interface EvaluateManyInput {
  modelKey: string;
  modelSpec?: ModelSpec;
  variants: { manifestKey: string; variantId: string }[];
}

export interface EvaluateOutput {
  variantId: string;
  n: number;
  accuracy: number;
  perClassAccuracy: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  resultKey: string;
}

export interface ChallengeInput {
  modelKey: string;
  /** A model trained here; absent for an imported pretrained model (its key names a models/ descriptor). */
  modelSpec?: ModelSpec;
  /** Foregrounds with masks: the original val split. */
  foregroundManifestKey: string;
  /** Background pool: only_bg_t val. */
  backgroundManifestKey: string;
  backgrounds: number;
  foregrounds: number;
}

export interface ChallengeOutput {
  foregrounds: number;
  backgrounds: number;
  /** Share of foregrounds classified correctly on every background. */
  adversarialAccuracy: number;
  /** Share classified correctly on their own original image. */
  cleanAccuracy: number;
  resultKey: string;
}

export interface SaliencyInput {
  modelKey: string;
  /** A model trained here; absent for an imported pretrained model (its key names a models/ descriptor). */
  modelSpec?: ModelSpec;
  manifestKey: string;
  variantId: string;
  samples: number;
  /** Models with input gradients: SmoothGrad (default) or one plain gradient; others always get occlusion. */
  method?: 'smoothgrad' | 'gradient';
}

/** computeSaliency on several test variants of one model, in one activity. */
export interface SaliencyManyInput {
  modelKey: string;
  modelSpec?: ModelSpec;
  samples: number;
  method?: 'smoothgrad' | 'gradient';
  variants: { manifestKey: string; variantId: string }[];
}

export interface SaliencyOutput {
  variantId: string;
  /** Mean share of saliency mass inside the foreground mask. */
  foregroundShare: number;
  /** Mean share of the image the masks cover: the chance level of foregroundShare (absent in results before eval-v2). */
  areaShare?: number;
  /** PNG grid of images and maps. */
  gridKey: string;
  resultKey: string;
  /** How the maps were made (absent in outputs recorded before it was returned). */
  method?: 'smoothgrad' | 'gradient' | 'occlusion';
}

/** A pretrained model to copy into the store (content-keyed by its bytes) in place of training. */
export interface ImportModelInput {
  runId: string;
  label: string;
  model: PretrainedModelInput;
}

export interface TrainEvalActivities {
  trainModel(input: TrainRunInput): Promise<TrainRunOutput>;
  /** Returns a TrainRunOutput with no curves, so the rest of a run treats it like a trained model. */
  importModel(input: ImportModelInput): Promise<TrainRunOutput>;
  /** Its modelKey names a pretrained-model descriptor of the fine-tuned weights, evaluated like an imported model. */
  finetuneModel(input: FinetuneRunInput): Promise<TrainRunOutput>;
  evaluateModel(input: EvaluateInput): Promise<EvaluateOutput>;
  evaluateModelOn(input: EvaluateManyInput): Promise<EvaluateOutput[]>;
  runChallenge(input: ChallengeInput): Promise<ChallengeOutput>;
  computeSaliency(input: SaliencyInput): Promise<SaliencyOutput>;
  computeSaliencyOn(input: SaliencyManyInput): Promise<SaliencyOutput[]>;
}

/** What a RunWorkflow returns to its study: the run's training (or import) and every measurement of it. */
export interface RunSummary {
  runId: string;
  label: string;
  train: TrainRunOutput;
  /** label -> mean accuracy over its pairings, with each pairing's evaluation. */
  tests: { label: string; accuracy: number; evaluations: EvaluateOutput[] }[];
  challenge: ChallengeOutput | null;
  saliency: SaliencyOutput[];
}

/**
 * What a RunWorkflow returns since `patched('i21-summary-in-store')`: its RunSummary stays in the store
 * (`run-summaries/<runId>/<hash>.json`), so the study's history and the report's input hold a key per run, not
 * the run's numbers. Children recorded before it return the RunSummary itself.
 */
export interface StoredRunSummary {
  runId: string;
  label: string;
  summaryKey: string;
}

/** A finished run as the report's input lists it: the summary itself (older studies), or where it is stored. */
export type RunOutcome = RunSummary | { summaryKey: string };
