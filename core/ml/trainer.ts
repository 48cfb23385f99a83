import type { Sample } from '../data/sample';
import type { TrainableModelSpec } from './model-spec';

/**
 * A batch in the layout every backend consumes: NHWC float32 pixels in [0, 1] (normalization happens
 * inside the model) and integer labels.
 */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  /** Number of images in this batch (the last batch of an epoch may be short). */
  n: number;
  /** Per image, its context label: only for a trainer with a context head (core/ml/context-head.ts). */
  context?: Int32Array;
}

export interface StepResult {
  /** Mean loss over the batch. */
  loss: number;
  /** Images classified correctly in the batch (before the update). */
  correct: number;
  /** A context head's correct context labels in the batch (before the update). */
  contextCorrect?: number;
}

export interface OptimizerSpec {
  name: 'adam' | 'sgd';
  learningRate: number;
  momentum?: number;
}

/** Weights and optimizer state as named raw arrays, in a fixed order: what a checkpoint stores. */
export interface TrainerState {
  weights: { name: string; shape: number[]; data: Float32Array }[];
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
}

/**
 * One optimizer step at a time, on one model. Implemented in-process (core/ml/in-process-trainer.ts) and
 * data-parallel over worker threads (core/backend/parallel-trainer.ts); the training loop (core/ml/train.ts)
 * only sees this interface, so both give the same loop, checkpoints and results.
 */
export interface StepTrainer {
  readonly modelSpec: TrainableModelSpec;
  /**
   * How a sample becomes a batch image (NHWC, [0, 1], inputSize): a pretrained model's own geometry (resize
   * shorter side + center crop). Absent: samplePixels (a plain resize).
   */
  readonly view?: (sample: Sample) => Float32Array;
  /** Backend that runs the math, e.g. "wasm (2 workers)". Stored with every result. */
  readonly backend: string;
  trainStep(batch: Batch): Promise<StepResult>;
  /** Logits, n x numClasses, row-major. */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  getState(): Promise<TrainerState>;
  setState(state: TrainerState): Promise<void>;
  dispose(): Promise<void>;
}
