import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from './model-spec';

/** ImageNet statistics, applied inside the model so that inputs stay in [0, 1] for compositing. */
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** (x - mean) / std as a layer: scale = 1/std, offset = -mean/std, per channel. */
function normalize(input: tf.SymbolicTensor): tf.SymbolicTensor {
  const scale = tf.layers.dense({
    units: 3,
    useBias: true,
    trainable: false,
    name: 'normalize',
    weights: [
      tf.tensor2d([1 / STD[0]!, 0, 0, 0, 1 / STD[1]!, 0, 0, 0, 1 / STD[2]!], [3, 3]),
      tf.tensor1d(MEAN.map((m, i) => -m / STD[i]!)),
    ],
  });
  return scale.apply(input) as tf.SymbolicTensor;
}

/** The fast default: three conv blocks (16/32/64 filters), global average pooling, a linear classifier. */
function smallCnn(spec: ModelSpec): tf.LayersModel {
  const init = (i: number) => tf.initializers.heNormal({ seed: spec.seed * 1000 + i });
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, 3], name: 'image' });
  let x = normalize(input);
  [16, 32, 64].forEach((filters, i) => {
    x = tf.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(i),
        name: `conv${i + 1}`,
      })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers
      .maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` })
      .apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({
      units: spec.numClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed * 1000 + 99 }),
      name: 'logits',
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'small_cnn' });
}

/** Builds the network a spec names; outputs are logits (softmax lives in the loss). */
export function buildModel(spec: ModelSpec): tf.LayersModel {
  switch (spec.arch) {
    case 'small_cnn':
      return smallCnn(spec);
    default:
      throw new Error(`architecture "${spec.arch}" is not implemented yet`);
  }
}
