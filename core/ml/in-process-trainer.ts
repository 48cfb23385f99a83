import * as tf from '@tensorflow/tfjs';
import { libtensorflowVersion } from '../backend/select-backend';
import type { Sample } from '../data/sample';
import type { TrainableModelSpec } from './model-spec';
import { buildModel } from './models';
import { ExplicitOptimizer } from './optimizer';
import { inputDims, type Preprocess, toModelInput, viewPixels } from './preprocess';
import type { Batch, OptimizerSpec, StepResult, StepTrainer, TrainerState } from './trainer';

type LayerVariable = tf.LayersModel['weights'][number];

/** The tf.Variable behind a layers weight (LayerVariable.read() returns it). */
function variableOf(w: LayerVariable): tf.Variable {
  return w.read() as tf.Variable;
}

/** Softmax cross-entropy, mean over the batch, from logits and integer labels. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(tf.oneHot(labels, logits.shape[1]), logits);
}

/** A model loaded elsewhere (a pretrained one being fine-tuned) instead of one built from an Architecture. */
export interface GivenModel {
  model: tf.LayersModel;
  /** The model's declared input: views are scaled, normalized and laid out by it (core/ml/preprocess.ts). */
  preprocess: Preprocess;
  /** false: train steps run the model in inference mode (BatchNorm statistics and dropout fixed: a linear probe). */
  trainingMode: boolean;
}

/**
 * The trainer that runs in this process on whatever tfjs backend is active: one model, one optimizer,
 * softmax cross-entropy on the model's logits. Its state (every model weight, BatchNorm statistics
 * included, plus the optimizer's step and slots) restores a run exactly. Only the model's trainable
 * weights are updated (frozen layers stay as they are).
 */
export class InProcessTrainer implements StepTrainer {
  readonly model: tf.LayersModel;
  readonly view?: (sample: Sample) => Float32Array;
  private readonly optimizer: ExplicitOptimizer;
  private readonly trainable: tf.Variable[];
  private readonly preprocess?: Preprocess;
  private readonly trainingMode: boolean;

  constructor(
    readonly modelSpec: TrainableModelSpec,
    optimizer: OptimizerSpec,
    given?: GivenModel,
  ) {
    if (given) {
      this.model = given.model;
      const pp = given.preprocess;
      this.preprocess = pp;
      this.view = (s) => viewPixels(s, pp);
      this.trainingMode = given.trainingMode;
    } else {
      if (modelSpec.arch === 'finetune') throw new Error('a fine-tune trainer needs the loaded model');
      this.model = buildModel(modelSpec);
      this.trainingMode = true;
    }
    this.trainable = this.model.trainableWeights.map(variableOf);
    if (this.trainable.length === 0) throw new Error(`model ${this.model.name} has no trainable weights`);
    this.optimizer = new ExplicitOptimizer(optimizer, this.trainable);
  }

  /** tfjs's backend name; for tfjs-node(-gpu), "tensorflow", with the TensorFlow library's version. */
  get backend(): string {
    const name = tf.getBackend();
    return name === 'tensorflow' ? `tensorflow (libtensorflow ${libtensorflowVersion()})` : name;
  }

  private images(x: Float32Array, n: number): tf.Tensor {
    const s = this.modelSpec.inputSize;
    if (x.length !== n * s * s * 3)
      throw new Error(`batch of ${n} needs ${n * s * s * 3} pixel values at ${s}px, got ${x.length}`);
    if (this.preprocess) return tf.tensor(toModelInput(x, n, this.preprocess), inputDims(n, this.preprocess));
    return tf.tensor4d(x, [n, s, s, 3]);
  }

  async trainStep(batch: Batch): Promise<StepResult> {
    const [loss, correct] = tf.tidy(() => {
      const x = this.images(batch.x, batch.n);
      const y = tf.tensor1d(batch.y, 'int32');
      let logits: tf.Tensor2D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        logits = tf.keep(this.model.apply(x, { training: this.trainingMode }) as tf.Tensor2D);
        return softmaxCrossEntropy(logits, y);
      }, this.trainable);
      this.optimizer.apply(this.trainable.map((v) => grads[v.name]!));
      const hits = tf.equal(tf.argMax(logits!, 1), y).sum();
      // Kept to escape variableGrads' scope; freed here (one tensor a step leaked otherwise).
      logits!.dispose();
      return [value, hits];
    });
    const [l, c] = await Promise.all([loss.data(), correct.data()]);
    tf.dispose([loss, correct]);
    return { loss: l[0]!, correct: c[0]! };
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    const out = tf.tidy(() => this.model.apply(this.images(x, n), { training: false }) as tf.Tensor);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  async getState(): Promise<TrainerState> {
    return { weights: await readWeights(this.model), optimizer: await this.optimizer.getState() };
  }

  async setState(state: TrainerState): Promise<void> {
    writeWeights(this.model, state.weights);
    this.optimizer.setState(state.optimizer);
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** Every weight of a model (trainable or not, in layer order) as named arrays. */
export async function readWeights(model: tf.LayersModel): Promise<TrainerState['weights']> {
  const out: TrainerState['weights'] = [];
  for (const w of model.weights) {
    out.push({
      name: w.originalName,
      shape: [...w.shape] as number[],
      data: (await w.read().data()) as Float32Array,
    });
  }
  return out;
}

/** The inverse of readWeights; names and shapes must match the model's, in order. */
export function writeWeights(model: tf.LayersModel, weights: TrainerState['weights']): void {
  if (weights.length !== model.weights.length) {
    throw new Error(
      `state has ${weights.length} weight arrays, model ${model.name} has ${model.weights.length}`,
    );
  }
  model.weights.forEach((w, i) => {
    const s = weights[i]!;
    if (s.name !== w.originalName || s.shape.join('x') !== w.shape.join('x')) {
      throw new Error(
        `weight ${i}: state has ${s.name} [${s.shape}], model has ${w.originalName} [${w.shape.join(',')}]`,
      );
    }
    tf.tidy(() => {
      w.write(tf.tensor(s.data, s.shape));
    });
  });
}
