import * as tf from '@tensorflow/tfjs';
import { libtensorflowVersion } from '../backend/select-backend';
import { readWeights, softmaxCrossEntropy, writeWeights } from './in-process-trainer';
import type { TrainableModelSpec } from './model-spec';
import { buildModel } from './models';
import { ExplicitOptimizer } from './optimizer';
import type { Batch, OptimizerSpec, StepResult, StepTrainer, TrainerState } from './trainer';

/** A context head: how many context labels there are, and the weight of its loss beside the class loss. */
export interface ContextHeadSpec {
  classes: number;
  weight: number;
}

/** Name of the second head's layer; the class model (`classModel`) never contains it. */
export const CONTEXT_LAYER = 'context_logits';

/**
 * The slides' "highly correlated class" experiment as a multi-task classifier: the architecture of
 * core/ml/models.ts (its `logits` layer is the class head) plus a second linear head on the same pooled
 * features that predicts a context label (the background family, the co-occurring object, a user's label).
 * One step minimizes CE(class) + weight × CE(context). `predict` and the saved model are the class model alone,
 * so evaluation, BG-Gap, the challenge and saliency see an ordinary model of `modelSpec`; checkpoints hold both
 * heads and the optimizer, so a resumed run is exact as with InProcessTrainer. Runs in this process on the
 * active tfjs backend (the libtorch engine builds no second head; activities/train.ts says so in the engine).
 */
export class ContextHeadTrainer implements StepTrainer {
  /** The class model: input -> class logits, sharing every layer with `twoHeads`. */
  readonly classModel: tf.LayersModel;
  private readonly twoHeads: tf.LayersModel;
  private readonly optimizer: ExplicitOptimizer;
  private readonly trainable: tf.Variable[];

  constructor(
    readonly modelSpec: TrainableModelSpec,
    optimizer: OptimizerSpec,
    readonly context: ContextHeadSpec,
  ) {
    if (modelSpec.arch === 'finetune') throw new Error('a context head is trained on a fresh model only');
    if (!Number.isInteger(context.classes) || context.classes < 2)
      throw new Error(`a context head needs at least 2 context labels, got ${context.classes}`);
    if (!(context.weight > 0)) throw new Error(`context weight must be > 0, got ${context.weight}`);
    this.classModel = buildModel(modelSpec);
    const features = this.classModel.getLayer('logits').input as tf.SymbolicTensor;
    const contextLogits = tf.layers
      .dense({
        units: context.classes,
        // seeded like the class head, from another stream
        kernelInitializer: tf.initializers.glorotUniform({ seed: modelSpec.seed * 1000 + 98 }),
        name: CONTEXT_LAYER,
      })
      .apply(features) as tf.SymbolicTensor;
    this.twoHeads = tf.model({
      inputs: this.classModel.inputs,
      outputs: [this.classModel.outputs[0]!, contextLogits],
      name: `${this.classModel.name}_context`,
    });
    this.trainable = this.twoHeads.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = new ExplicitOptimizer(optimizer, this.trainable);
  }

  get backend(): string {
    const name = tf.getBackend();
    return name === 'tensorflow' ? `tensorflow (libtensorflow ${libtensorflowVersion()})` : name;
  }

  private images(x: Float32Array, n: number): tf.Tensor4D {
    const s = this.modelSpec.inputSize;
    if (x.length !== n * s * s * 3)
      throw new Error(`batch of ${n} needs ${n * s * s * 3} pixel values at ${s}px, got ${x.length}`);
    return tf.tensor4d(x, [n, s, s, 3]);
  }

  async trainStep(batch: Batch): Promise<StepResult> {
    const context = batch.context;
    if (!context || context.length !== batch.n)
      throw new Error(`a context-head step needs one context label per image (${batch.n})`);
    const [loss, correct, contextCorrect] = tf.tidy(() => {
      const x = this.images(batch.x, batch.n);
      const y = tf.tensor1d(batch.y, 'int32');
      const c = tf.tensor1d(context, 'int32');
      let heads: tf.Tensor2D[] = [];
      const { value, grads } = tf.variableGrads(() => {
        heads = (this.twoHeads.apply(x, { training: true }) as tf.Tensor2D[]).map((t) => tf.keep(t));
        const classLoss = softmaxCrossEntropy(heads[0]!, y);
        return classLoss.add<tf.Scalar>(softmaxCrossEntropy(heads[1]!, c).mul(this.context.weight));
      }, this.trainable);
      this.optimizer.apply(this.trainable.map((v) => grads[v.name]!));
      const hits = tf.equal(tf.argMax(heads[0]!, 1), y).sum();
      const contextHits = tf.equal(tf.argMax(heads[1]!, 1), c).sum();
      tf.dispose(heads);
      return [value, hits, contextHits];
    });
    const [l, h, ch] = await Promise.all([loss.data(), correct.data(), contextCorrect.data()]);
    tf.dispose([loss, correct, contextCorrect]);
    return { loss: l[0]!, correct: h[0]!, contextCorrect: ch[0]! };
  }

  /** Class logits (the class head only). */
  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    const out = tf.tidy(() => this.classModel.apply(this.images(x, n), { training: false }) as tf.Tensor);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  /** Context logits, n x context.classes (tests and diagnostics: is the context learnt?). */
  async predictContext(x: Float32Array, n: number): Promise<Float32Array> {
    const out = tf.tidy(() => {
      const heads = this.twoHeads.apply(this.images(x, n), { training: false }) as tf.Tensor[];
      return heads[1]!;
    });
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  /** Both heads and the optimizer: what a checkpoint needs to resume exactly. */
  async getState(): Promise<TrainerState> {
    return { weights: await readWeights(this.twoHeads), optimizer: await this.optimizer.getState() };
  }

  async setState(state: TrainerState): Promise<void> {
    writeWeights(this.twoHeads, state.weights);
    this.optimizer.setState(state.optimizer);
  }

  /** The class model's weights alone, in its own order: the stored model (core/ml/model-artifact.ts). */
  async classWeights(): Promise<TrainerState['weights']> {
    return readWeights(this.classModel);
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
    this.twoHeads.dispose();
  }
}
