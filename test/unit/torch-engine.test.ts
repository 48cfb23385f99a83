import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend/select-backend';
import { torchAddonInstalled } from '../../core/backend/torch-addon';
import { TorchTrainer } from '../../core/backend/torch-trainer';
import { InProcessTrainer, readWeights, softmaxCrossEntropy } from '../../core/ml/in-process-trainer';
import type { ModelSpec } from '../../core/ml/model-spec';
import { buildModel } from '../../core/ml/models';
import { train, type TrainCheckpoint, type TrainConfig } from '../../core/ml/train';
import type { OptimizerSpec, TrainerState } from '../../core/ml/trainer';
import { values } from '../helpers/grad-check';
import { memorySource, toySamples } from '../helpers/memory-source';

// The libtorch engine against the tfjs models it copies: same seeded weights in, so the loss, every weight's
// gradient, BatchNorm's moving statistics, inference logits and input gradients must agree to float rounding.
// The reference is tfjs on wasm (its kernels are checked against the cpu backend in wasm-*.test.ts).
// `npm run setup` builds the addon where libtorch is installed; without it these skip, except where
// BGSTUDY_REQUIRE_TORCH=1 (CI, which installs Debian's libtorch-dev): there a missing addon fails.
const required = process.env.BGSTUDY_REQUIRE_TORCH === '1';
const skip =
  torchAddonInstalled() || required
    ? false
    : 'libtorch addon not built (npm run setup builds it where libtorch is installed)';

const N = 4;
const CLASSES = 5;
const labels = Int32Array.of(1, 3, 0, 4);

/** max |a - b| / max |b| over one array: per-element ratios are meaningless for near-zero values. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return s === 0 ? d : d / s;
}

/**
 * The worst max |a - b| / max |b| over a list of arrays, and which one. An array whose true value is zero
 * (e.g. the gradient of a BatchNorm beta that feeds another BatchNorm through a linear conv) holds only rounding
 * noise in both engines, so its scale is floored at 1e-3 of the largest array's.
 */
function worst(a: ArrayLike<number>[], b: ArrayLike<number>[], names: string[]): [number, string] {
  const maxAbs = (v: ArrayLike<number>) => {
    let m = 0;
    for (let k = 0; k < v.length; k++) m = Math.max(m, Math.abs(v[k]!));
    return m;
  };
  const floor = 1e-3 * Math.max(...b.map(maxAbs));
  let e = 0;
  let at = '';
  a.forEach((x, i) => {
    const ref = b[i]!;
    assert.equal(x.length, ref.length, names[i]);
    let d = 0;
    for (let k = 0; k < ref.length; k++) d = Math.max(d, Math.abs(x[k]! - ref[k]!));
    const r = d / Math.max(maxAbs(ref), floor);
    if (r > e) [e, at] = [r, names[i]!];
  });
  return [e, at];
}

/** tfjs reference: loss, trainable gradients, every weight after the step's BatchNorm update, logits, input gradients. */
async function tfjsReference(spec: ModelSpec, x: Float32Array) {
  const model = buildModel(spec);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const size = spec.inputSize;
  const input = tf.tensor4d(x, [N, size, size, 3]);
  const y = tf.tensor1d(labels, 'int32');
  const { value, grads } = tf.variableGrads(
    () => softmaxCrossEntropy(model.apply(input, { training: true }) as tf.Tensor2D, y),
    vars,
  );
  const out = {
    loss: (await value.data())[0]!,
    grads: await Promise.all(vars.map((v) => grads[v.name]!.data() as Promise<Float32Array>)),
    weights: await readWeights(model),
    logits: (await (model.apply(input, { training: false }) as tf.Tensor).data()) as Float32Array,
    inputGrad: (await tf
      .grad((z: tf.Tensor) =>
        tf.sum(tf.mul(model.apply(z, { training: false }) as tf.Tensor, tf.oneHot(y, spec.numClasses))),
      )(input)
      .data()) as Float32Array,
  };
  tf.dispose([value, input, y, ...Object.values(grads)]);
  model.dispose();
  return out;
}

// Measured on Debian's libtorch 1.13 (CPU) against tfjs wasm: ResNets and the small CNN agree to ~5e-6 on
// every array; a wrong layout, pad or BatchNorm rule gives errors of order one. MobileNetV2's training-mode
// weight gradients at these seeds are ill-conditioned in float32: moving the input by 1e-7 (about one ulp of
// a pixel) changes libtorch's own gradients by up to 1.1e-1 of an array's scale and tfjs's by 5.4e-2, tfjs cpu
// and tfjs wasm differ from each other by 3.5e-2, while ResNet-18's move by 5.7e-6 for a 1e-6 move. So the
// gradient bound is not a constant: it is twice the engine's own change under two such one-ulp input moves
// (floored at 1e-3), measured in the test itself (measured: mobilenet_v2@32 1.1e-1 between engines, 1.1e-1 own
// change; @64 6.3e-2 and 6.4e-2). Loss, logits and statistics stay at 1e-3 for every architecture.
const CASES: [ModelSpec['arch'], number][] = [
  ['small_cnn', 32],
  ['resnet18', 32],
  ['resnet18', 64],
  ['resnet50', 64],
  ['mobilenet_v2', 32],
  ['mobilenet_v2', 64],
  // ShuffleNetV2 at 32px is sensitive the same way (tfjs cpu and wasm differ by 5.7e-2 on s4b1_branch_conv1's
  // gradient; libtorch is 3.2e-4 from cpu); EfficientNet-B0 and ShuffleNetV2 at 64px agree to ~1e-4.
  ['efficientnet_b0', 32],
  ['efficientnet_b0', 64],
  ['shufflenet_v2', 32],
  ['shufflenet_v2', 64],
];

/** max |a - b| over every array / max |b| over every array. */
function globalErr(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let d = 0;
  let m = 0;
  a.forEach((x, i) => {
    for (let k = 0; k < x.length; k++) {
      d = Math.max(d, Math.abs(x[k]! - b[i]![k]!));
      m = Math.max(m, Math.abs(b[i]![k]!));
    }
  });
  return d / m;
}

for (const [arch, size] of CASES) {
  void test(
    `libtorch ${arch}@${size}: same loss, gradients, BatchNorm statistics, logits and input gradients as tfjs`,
    { skip },
    async () => {
      await initBackend({ backend: 'wasm' });
      const spec: ModelSpec = { arch, inputSize: size, numClasses: CLASSES, seed: 2 };
      const x = values(N * size * size * 3, 11).map((v) => (v + 1) / 2);
      const ref = await tfjsReference(spec, x);
      const torch = new TorchTrainer(
        spec,
        { name: 'sgd', learningRate: 0.1 },
        { device: 'cpu', precision: 'fp32' },
      );
      try {
        const initial = await torch.getState();
        const seeded = buildModel(spec);
        const built = await readWeights(seeded);
        seeded.dispose();
        assert.ok(
          initial.weights.every((w, i) =>
            Buffer.from(w.data.buffer).equals(Buffer.from(built[i]!.data.buffer)),
          ),
          'the seeded tfjs weights are copied into libtorch bit for bit',
        );
        const g = torch.gradients(x, labels, N);
        const names = torch.graph.trainable.map((p) => torch.graph.params[p]!.name);
        const lossErr = Math.abs(g.loss - ref.loss) / ref.loss;
        const [gradErr, gradAt] = worst(g.grads, ref.grads, names);
        const gradGlobal = globalErr(g.grads, ref.grads);
        const tol = 1e-3;
        const after = await torch.getState();
        const [statErr, statAt] = worst(
          after.weights.map((w) => w.data),
          ref.weights.map((w) => w.data),
          after.weights.map((w) => w.name),
        );
        const logitErr = relErr(await torch.predict(x, N), ref.logits);
        const inputErr = relErr(await torch.inputGradients(x, N, labels), ref.inputGrad);
        // The engine's own sensitivity: its gradients after moving every pixel by 1e-7 (signs from a seeded
        // draw). Last, as each call moves the BatchNorm statistics (as a train step does).
        let sensitivity = 0;
        let sensitivityGlobal = 0;
        for (const seed of [5, 6]) {
          const noise = values(x.length, seed);
          const moved = torch.gradients(
            x.map((v, i) => v + 1e-7 * Math.sign(noise[i]!)),
            labels,
            N,
          ).grads;
          sensitivity = Math.max(sensitivity, worst(moved, g.grads, names)[0]);
          sensitivityGlobal = Math.max(sensitivityGlobal, globalErr(moved, g.grads));
        }
        const gradTol = Math.max(1e-3, 2 * sensitivity);
        const gradGlobalTol = Math.max(1e-3, 2 * sensitivityGlobal);
        console.log(
          `# ${arch}@${size}: loss ${lossErr.toExponential(1)}, gradients ${gradErr.toExponential(1)} (${gradAt}; ` +
            `${gradGlobal.toExponential(1)} of the largest; own change under a 1e-7 input move ` +
            `${sensitivity.toExponential(1)}, ${sensitivityGlobal.toExponential(1)}), ` +
            `weights+statistics ${statErr.toExponential(1)} (${statAt}), logits ${logitErr.toExponential(1)}, ` +
            `input gradients ${inputErr.toExponential(1)}`,
        );
        assert.ok(lossErr < tol, `loss ${g.loss} vs tfjs ${ref.loss}`);
        assert.ok(
          gradErr < gradTol,
          `gradient of ${gradAt} differs by ${gradErr.toExponential(2)} (relative to its max; bound ${gradTol.toExponential(1)})`,
        );
        assert.ok(
          gradGlobal < gradGlobalTol,
          `gradients differ by ${gradGlobal.toExponential(2)} of the largest gradient (bound ${gradGlobalTol.toExponential(1)})`,
        );
        assert.ok(statErr < tol, `${statAt} after the step differs by ${statErr.toExponential(2)}`);
        assert.ok(logitErr < tol, `inference logits differ by ${logitErr.toExponential(2)}`);
        // MobileNetV2's input gradients here come from each engine's own post-step statistics (which differ by
        // up to 1.6e-5) and amplify that to 2.2e-3 at 32 px; from identical weights they agree to 9e-7
        // (torch-eval.test.ts).
        assert.ok(
          inputErr < (arch === 'mobilenet_v2' ? 1e-2 : tol),
          `input gradients differ by ${inputErr.toExponential(2)}`,
        );
      } finally {
        await torch.dispose();
      }
    },
  );
}

/** Every weight and optimizer value as raw bytes. */
function flat(state: TrainerState): Buffer {
  return Buffer.concat(
    [...state.weights, ...state.optimizer].map((a) =>
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength),
    ),
  );
}

for (const optimizer of [
  { name: 'adam', learningRate: 0.01 },
  { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
] as OptimizerSpec[]) {
  void test(
    `libtorch follows tfjs through three ${optimizer.name} steps (resnet18@32: losses, weights, optimizer slots)`,
    { skip },
    async () => {
      await initBackend({ backend: 'wasm' });
      const spec: ModelSpec = { arch: 'resnet18', inputSize: 32, numClasses: CLASSES, seed: 3 };
      const x = values(N * 32 * 32 * 3, 5).map((v) => (v + 1) / 2);
      const batch = { x, y: labels, n: N };
      const a = new InProcessTrainer(spec, optimizer);
      const b = new TorchTrainer(spec, optimizer, { device: 'cpu' });
      try {
        for (let i = 0; i < 3; i++) {
          const [ra, rb] = [await a.trainStep(batch), await b.trainStep(batch)];
          assert.ok(
            Math.abs(ra.loss - rb.loss) < 1e-3 * ra.loss,
            `step ${i}: loss ${rb.loss} vs tfjs ${ra.loss}`,
          );
          assert.equal(rb.correct, ra.correct, `step ${i}: correct`);
        }
        const [sa, sb] = [await a.getState(), await b.getState()];
        assert.deepEqual(
          sb.optimizer.map((s) => [s.name, s.shape.join('x')]),
          sa.optimizer.map((s) => [s.name, s.shape.join('x')]),
        );
        const [e, at] = worst(
          [...sb.weights, ...sb.optimizer].map((s) => s.data),
          [...sa.weights, ...sa.optimizer].map((s) => s.data),
          [...sb.weights, ...sb.optimizer].map((s) => s.name),
        );
        console.log(
          `# ${optimizer.name}: after 3 steps weights and slots differ by ${e.toExponential(1)} (${at})`,
        );
        assert.ok(e < 1e-2, `${at} differs by ${e.toExponential(2)} after 3 steps`);
      } finally {
        await Promise.all([a.dispose(), b.dispose()]);
      }
    },
  );
}

void test(
  'libtorch training resumed from any checkpoint ends exactly where the uninterrupted run does',
  { skip },
  async () => {
    await initBackend({ backend: 'wasm' });
    const spec: ModelSpec = { arch: 'resnet18', inputSize: 16, numClasses: 3, seed: 5 };
    const config: TrainConfig = {
      epochs: 2,
      batchSize: 4,
      seed: 11,
      optimizer: { name: 'adam', learningRate: 0.01 },
      augment: { shift: 1, flip: true },
      checkpointEvery: 2,
    };
    const classes = ['a', 'b', 'c'];
    const data = {
      train: memorySource(toySamples(14, 18, 3, 1), classes),
      val: memorySource(toySamples(6, 18, 3, 2, 'v'), classes),
    };
    const make = () => new TorchTrainer(spec, config.optimizer, { device: 'cpu' });
    const full = make();
    const checkpoints: TrainCheckpoint[] = [];
    const out = await train(full, data, config, { saveCheckpoint: async (c) => void checkpoints.push(c) });
    const final = flat(await full.getState());
    await full.dispose();
    assert.equal(out.stepsRun, 8);
    assert.ok(checkpoints.length >= 3);
    for (const ckpt of [checkpoints[0]!, checkpoints[2]!]) {
      const t = make();
      const resumed = await train(t, data, config, { resume: ckpt });
      const at = `${ckpt.cursor.epoch}-${ckpt.cursor.batch}`;
      assert.deepEqual(resumed.curves, out.curves, `curves after resuming at ${at}`);
      assert.ok(flat(await t.getState()).equals(final), `state after resuming at ${at}`);
      await t.dispose();
    }
  },
);

void test(
  'a libtorch checkpoint resumes in the tfjs engine (same names, shapes and layouts)',
  { skip },
  async () => {
    await initBackend({ backend: 'wasm' });
    const spec: ModelSpec = { arch: 'mobilenet_v2', inputSize: 16, numClasses: 3, seed: 4 };
    const optimizer: OptimizerSpec = { name: 'adam', learningRate: 0.01 };
    const x = values(N * 16 * 16 * 3, 9).map((v) => (v + 1) / 2);
    const batch = { x, y: Int32Array.of(0, 1, 2, 0), n: N };
    const torch = new TorchTrainer(spec, optimizer, { device: 'cpu' });
    const tfjs = new InProcessTrainer(spec, optimizer);
    try {
      await torch.trainStep(batch);
      const state = await torch.getState();
      await tfjs.setState(state);
      assert.ok(flat(await tfjs.getState()).equals(flat(state)), 'tfjs holds the libtorch state bit for bit');
      const [lt, lj] = [(await torch.trainStep(batch)).loss, (await tfjs.trainStep(batch)).loss];
      assert.ok(Math.abs(lt - lj) < 1e-3 * lj, `next step's loss ${lt} (libtorch) vs ${lj} (tfjs)`);
    } finally {
      await Promise.all([torch.dispose(), tfjs.dispose()]);
    }
  },
);
