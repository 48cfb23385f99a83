/**
 * A model trained here, run by the libtorch engine for evaluation, the challenge and saliency: the same
 * network core/ml/models.ts builds (core/backend/torch-graph.ts), its stored weights and BatchNorm statistics
 * loaded, logits and input gradients in inference mode, on CUDA when libtorch sees a device, else the CPU.
 */
import type { Classifier } from '../ml/classifier';
import type { ModelSpec } from '../ml/model-spec';
import { sampleMask, samplePixels } from '../ml/pixels';
import type { TrainerState } from '../ml/trainer';
import { TorchTrainer, type TorchTrainerOptions } from './torch-trainer';

export function torchClassifier(
  modelSpec: ModelSpec,
  weights: TrainerState['weights'],
  options: TorchTrainerOptions = {},
): Classifier {
  // Plain SGD: no optimizer slots are allocated; the engine only runs forward and input gradients here.
  const engine = new TorchTrainer(modelSpec, { name: 'sgd', learningRate: 1 }, options);
  try {
    engine.setWeights(weights);
  } catch (err) {
    void engine.dispose();
    throw err;
  }
  const { inputSize, numClasses } = modelSpec;
  return {
    inputSize,
    numClasses,
    numScores: numClasses,
    predict: (x, n) => engine.predict(x, n),
    inputGradients: (x, n, labels) => engine.inputGradients(x, n, labels),
    view: (s) => samplePixels(s, inputSize),
    viewMask: (s) => sampleMask(s, inputSize),
    backend: engine.backend,
    dispose: () => engine.dispose(),
  };
}
