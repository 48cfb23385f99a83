import * as tf from '@tensorflow/tfjs';
import type { Sample } from '../data/sample';
import { type ClassMap, mapScores, resolveClassMap } from './class-map';
import { sampleMask, samplePixels } from './pixels';
import { inputDims, type Preprocess, toModelInput, viewMask, viewPixels } from './preprocess';

/**
 * What every evaluation (accuracy matrix, BG-Gap, challenge, saliency) needs of a model, whatever runs it: a
 * trained tfjs model, a tfjs model.json, or an ONNX file. Images travel as "views": NHWC float32 in [0, 1]
 * at `inputSize`, after the model's geometric preprocessing; compositing and occlusion happen on views, and
 * `predict` applies the rest (scale, normalization, layout, class mapping).
 */
export interface Classifier {
  inputSize: number;
  /** Dataset classes (k). */
  numClasses: number;
  /** Columns of `predict`'s rows: k, or k + 1 when the last column means "none of the dataset's classes". */
  numScores: number;
  /** Scores (n x numScores, row-major) of n views; the argmax is the prediction. */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  view(sample: Sample): Float32Array;
  viewMask(sample: Sample): Float32Array | undefined;
  /**
   * d score[label] / d view pixel for each of n views (NHWC, inference mode), where the engine has input
   * gradients (models trained here, on tfjs or libtorch): gradient saliency. Absent: occlusion saliency.
   */
  inputGradients?(x: Float32Array, n: number, labels: Int32Array): Promise<Float32Array>;
  /** e.g. "onnxruntime 1.30.0 (cpu)", "libtorch 2.11.0 (cuda: NVIDIA H200, fp32)"; stored with every result. */
  backend: string;
  dispose(): void | Promise<void>;
}

/** A model's own runner: input tensor data and dims -> its raw outputs (n x numOutputs). */
export interface RawModel {
  run(input: Float32Array, dims: number[]): Promise<{ data: Float32Array; numOutputs: number }>;
  backend: string;
  dispose(): void | Promise<void>;
}

/** A model trained here: NHWC [0, 1] in (normalization is inside it), one logit per dataset class out. */
export function trainedClassifier(model: tf.LayersModel, inputSize: number, numClasses: number): Classifier {
  return {
    inputSize,
    numClasses,
    numScores: numClasses,
    predict: async (x, n) => {
      const out = tf.tidy(
        () => model.apply(tf.tensor4d(x, [n, inputSize, inputSize, 3]), { training: false }) as tf.Tensor,
      );
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    },
    view: (s) => samplePixels(s, inputSize),
    viewMask: (s) => sampleMask(s, inputSize),
    inputGradients: (x, n, labels) => tfjsInputGradients(model, x, n, inputSize, labels),
    backend: tf.getBackend(),
    dispose: () => void model.dispose(),
  };
}

/** d logit[label] / d pixel of n NHWC images through a tfjs model in inference mode. */
export async function tfjsInputGradients(
  model: tf.LayersModel,
  x: Float32Array,
  n: number,
  size: number,
  labels: Int32Array,
): Promise<Float32Array> {
  const k = model.outputs[0]!.shape[1] as number;
  const g = tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
    // In inference mode images do not interact, so one sum gives per-image gradients.
    const score = (t: tf.Tensor) =>
      (model.apply(t, { training: false }) as tf.Tensor).mul(onehot).sum<tf.Scalar>();
    return tf.grad(score)(tf.tensor4d(x, [n, size, size, 3]));
  });
  const data = (await g.data()) as Float32Array;
  g.dispose();
  return data;
}

/**
 * A pretrained model with declared preprocessing and class mapping, as a Classifier over `classes`. The class
 * table is resolved on the first batch, once the number of outputs is known. With a class map the scores are
 * class-group maxima (core/ml/class-map.ts mapScores): accuracy is exactly the reference's; the reported loss
 * is the cross-entropy of those k + 1 scores, comparable between such models only.
 */
export function pretrainedClassifier(
  raw: RawModel,
  pp: Preprocess,
  classMap: ClassMap,
  classes: string[],
): Classifier {
  const k = classes.length;
  const mapped = classMap !== 'identity';
  let table: Int32Array | undefined;
  return {
    inputSize: pp.inputSize,
    numClasses: k,
    numScores: mapped ? k + 1 : k,
    predict: async (x, n) => {
      const { data, numOutputs } = await raw.run(toModelInput(x, n, pp), inputDims(n, pp));
      table ??= resolveClassMap(classMap, numOutputs, classes);
      return mapped ? mapScores(data, n, numOutputs, table, k) : data;
    },
    view: (s) => viewPixels(s, pp),
    viewMask: (s) => viewMask(s, pp),
    backend: raw.backend,
    dispose: () => raw.dispose(),
  };
}
