/** What a model is, as plain data: enough to build the same network in any process or worker thread. */
export const ARCHITECTURES = ['small_cnn', 'resnet18', 'resnet50', 'mobilenet_v2'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface ModelSpec {
  arch: Architecture;
  /** Square input side in pixels; images are resized to it. */
  inputSize: number;
  numClasses: number;
  /** Seed of the weight initializers, so two processes build identical models. */
  seed: number;
}
