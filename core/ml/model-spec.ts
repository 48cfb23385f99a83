/** What a model is, as plain data: enough to build the same network in any process or worker thread. */
export const ARCHITECTURES = [
  'small_cnn',
  'resnet18',
  'resnet50',
  'mobilenet_v2',
  'efficientnet_b0',
  'shufflenet_v2',
] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface ModelSpec {
  arch: Architecture;
  /** Square input side in pixels; images are resized to it. */
  inputSize: number;
  numClasses: number;
  /** Seed of the weight initializers, so two processes build identical models. */
  seed: number;
}

/**
 * A pretrained tfjs model being fine-tuned (core/ml/finetune.ts): the stored model it starts from and what
 * is changed and trained. Plays ModelSpec's part in run keys and checkpoint fingerprints.
 */
export interface FinetuneModelSpec {
  arch: 'finetune';
  /** The pretrained model's descriptor key (`models/<hash>.json`: a hash of its bytes, preprocessing, class map). */
  base: string;
  /** sha256 of the pretrained model's files (also inside `base`; kept for people reading run summaries). */
  sha256: string;
  inputSize: number;
  numClasses: number;
  /** 'replace': a new last Dense layer with numClasses units; 'keep': the model's own outputs (identity class map). */
  head: 'replace' | 'keep';
  /** 'all': every weight trains (BatchNorm in training mode); 'head': the last Dense only (a linear probe). */
  trainable: 'all' | 'head';
  /** Seed of the new head's initializer. */
  seed: number;
}

/** What a StepTrainer trains: a model built here, or a pretrained one being fine-tuned. */
export type TrainableModelSpec = ModelSpec | FinetuneModelSpec;
