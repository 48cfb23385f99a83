/**
 * Messages between ParallelTrainer (main thread) and its workers. Pixels, labels, gradients, BatchNorm
 * statistics and logits travel through SharedArrayBuffers; messages carry only ranges and small values.
 */
import type { ModelSpec } from '../ml/model-spec';
import type { OptimizerSpec, TrainerState } from '../ml/trainer';
import type { EngineSettings } from './engine-settings';
import type { BackendName } from './select-backend';

/** Buffers every worker sees. Replaced (and re-sent) when a larger batch arrives. */
export interface SharedBuffers {
  /** Global batch pixels, NHWC. */
  x: SharedArrayBuffer;
  /** Global batch labels. */
  y: SharedArrayBuffer;
  /** workers x parameterCount floats: each worker's gradient contribution. */
  grads: SharedArrayBuffer;
  /** workers x statCount floats: each worker's non-trainable weights (BatchNorm moving statistics) after its step. */
  stats: SharedArrayBuffer;
  /** Global batch logits from predict. */
  logits: SharedArrayBuffer;
}

export interface WorkerInit {
  index: number;
  workers: number;
  modelSpec: ModelSpec;
  optimizer: OptimizerSpec;
  backend: BackendName;
  /** The parent's engine settings (a thread starts with fresh modules; absent from parents before them). */
  engine?: EngineSettings;
}

export type ToWorker =
  | { type: 'buffers'; buffers: SharedBuffers }
  /** Gradients of this worker's rows [lo, hi) of a global batch of n, scaled by 1/n. */
  | { type: 'grads'; lo: number; hi: number; n: number }
  /** Sum all workers' gradients, apply the optimizer, average BatchNorm statistics (weights: rows per worker). */
  | { type: 'apply'; rowsPerWorker: number[] }
  | { type: 'predict'; lo: number; hi: number }
  | { type: 'getState' }
  | { type: 'setState'; state: TrainerState }
  | { type: 'dispose' };

export type FromWorker =
  | { type: 'ready'; parameterCount: number; statCount: number; backend: string }
  /** Sum of per-image losses over the worker's rows, and how many of them were classified correctly. */
  | { type: 'grads'; lossSum: number; correct: number }
  | { type: 'ok' }
  | { type: 'state'; state: TrainerState }
  | { type: 'error'; message: string; stack?: string };
