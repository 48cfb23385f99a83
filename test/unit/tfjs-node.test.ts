import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from '../../core/backend/backend-errors';
import { initBackend } from '../../core/backend/select-backend';
import { InProcessTrainer } from '../../core/ml/in-process-trainer';
import { buildModel } from '../../core/ml/models';
import type { Batch, TrainerState } from '../../core/ml/trainer';
import { compare, comparePool, convCases, depthwiseCases, poolCases, values } from '../helpers/grad-check';
import { globalRelErr, lossGradients } from '../helpers/model-grads';

/** oneDNN sums in another order than the cpu backend (and than wasm's XNNPACK). */
const TOLERANCE = 1e-4;

/**
 * tfjs-node where `npm run setup` built it (from PyPI's libtensorflow) or npm's install downloaded it.
 * CI sets BGSTUDY_REQUIRE_TFJS_NODE=1 after a setup that must succeed, so there these tests cannot skip.
 */
async function tfjsNodeOrSkip(t: { skip: (m: string) => void }): Promise<boolean> {
  try {
    const info = await initBackend({ backend: 'tfjs-node' });
    assert.match(String(info.details.libtensorflow), /^\d+\.\d+\.\d+/);
    return true;
  } catch (err) {
    if (!(err instanceof BackendUnavailableError) || process.env.BGSTUDY_REQUIRE_TFJS_NODE === '1') throw err;
    t.skip(`tfjs-node is not set up here (npm run setup): ${err.message}`);
    return false;
  }
}

test('tfjs-node kernel gradients match the cpu backend', async (t) => {
  if (!(await tfjsNodeOrSkip(t))) return;
  // tfjs-node's convolutions take only 'same' and 'valid' padding: all tfjs-layers uses.
  for (const c of [...convCases, ...depthwiseCases].filter((q) => typeof q.pad === 'string')) {
    await t.test(`${c.kind} ${c.h}x${c.w}x${c.ci}->${c.co} k${c.kh} s${c.strides} ${c.pad}`, () =>
      compare(c, 'tensorflow', TOLERANCE),
    );
  }
  // Which of equal maxima gets the gradient is a backend's choice.
  for (const p of poolCases.filter((q) => !q.ties)) {
    await t.test(`maxPool ${p.h}x${p.w}x${p.c} ${p.size} s${p.strides} ${p.pad}`, () =>
      comparePool(p, 'tensorflow', TOLERANCE),
    );
  }
});

test("the project's Step kernel equals tfjs's definition, NaN, signed zero and infinities included", async (t) => {
  if (!(await tfjsNodeOrSkip(t))) return;
  const x = [-2, -0, 0, 1e-30, 3, NaN, -Infinity, Infinity];
  assert.deepEqual(Array.from(await tf.step(tf.tensor1d(x)).data()), [0, 0, 0, 1, 1, NaN, 0, 1]);
  assert.deepEqual(Array.from(await tf.step(tf.tensor1d(x), 0.5).data()), [0.5, 0.5, 0.5, 1, 1, NaN, 0.5, 1]);
});

test('batch norm in training runs as one fused TensorFlow op each way, and only on tfjs-node', async (t) => {
  if (!(await tfjsNodeOrSkip(t))) return;
  const kernelsOfStep = async () => {
    const model = buildModel({ arch: 'resnet18', inputSize: 16, numClasses: 3, seed: 1 });
    const x = tf.tensor4d(values(2 * 16 * 16 * 3, 5), [2, 16, 16, 3]);
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() =>
        (model.apply(x, { training: true }) as tf.Tensor).sum<tf.Scalar>(),
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([x]);
    model.dispose();
    return new Set(info.kernelNames);
  };
  const node = await kernelsOfStep();
  assert.ok(
    node.has('BgstudyFusedBatchNormTrain') && node.has('BgstudyFusedBatchNormGrad'),
    [...node].join(),
  );
  assert.ok(!node.has('FusedBatchNorm'), 'the composite batch norm still ran');
  await initBackend({ backend: 'wasm' });
  const wasm = await kernelsOfStep();
  assert.ok(wasm.has('FusedBatchNorm') && !wasm.has('BgstudyFusedBatchNormTrain'), [...wasm].join());
});

test('moving mean and variance after training steps on tfjs-node equal wasm', async (t) => {
  if (!(await tfjsNodeOrSkip(t))) return;
  const stats: Record<string, Float32Array[]> = {};
  for (const backend of ['tfjs-node', 'wasm'] as const) {
    await initBackend({ backend });
    const tr = new InProcessTrainer(
      { arch: 'resnet18', inputSize: 32, numClasses: 9, seed: 1 },
      { name: 'adam', learningRate: 1e-3 },
    );
    const x = values(8 * 32 * 32 * 3, 9).map((v) => (v + 1) / 2);
    for (let i = 0; i < 3; i++)
      await tr.trainStep({ x, y: Int32Array.from({ length: 8 }, (_, j) => j % 9), n: 8 });
    stats[backend] = (await tr.getState()).weights
      .filter((w) => /moving_(mean|variance)/.test(w.name))
      .map((w) => w.data);
    await tr.dispose();
  }
  assert.equal(stats['tfjs-node']!.length, 40);
  let worst = 0;
  stats['tfjs-node']!.forEach((a, i) =>
    a.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - stats.wasm![i]![j]!)))),
  );
  assert.ok(worst < 1e-4, `moving statistics differ by ${worst}`);
});

for (const [arch, reference, tolerance] of [
  ['small_cnn', 'cpu', 1e-5],
  ['mobilenet_v2', 'cpu', 1e-3],
  ['efficientnet_b0', 'cpu', 1e-3],
  ['shufflenet_v2', 'cpu', 1e-3],
  // The cpu backend takes minutes for a ResNet; wasm's kernels are themselves checked against cpu.
  ['resnet18', 'wasm', 1e-3],
] as const) {
  test(`${arch} loss gradients on tfjs-node equal ${reference}'s`, async (t) => {
    if (!(await tfjsNodeOrSkip(t))) return;
    const n = await lossGradients(arch, 'tfjs-node');
    const r = await lossGradients(arch, reference);
    assert.ok(Math.abs(n.loss - r.loss) < 1e-4 * r.loss, `loss ${n.loss} vs ${r.loss}`);
    const e = globalRelErr(n.grads, r.grads);
    assert.ok(e < tolerance, `${arch} gradients differ from ${reference} by ${e.toExponential(2)}`);
  });
}

function flat(state: TrainerState): Buffer {
  return Buffer.concat(
    [...state.weights, ...state.optimizer].map((a) =>
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength),
    ),
  );
}

// Exact resume after a crash needs bit-identical steps: libtensorflow's thread pool must not change the
// order of any sum between runs.
test('tfjs-node training is deterministic, also across a checkpoint', async (t) => {
  if (!(await tfjsNodeOrSkip(t))) return;
  const size = 32;
  const batches: Batch[] = [0, 1, 2, 3].map((i) => ({
    x: values(8 * size * size * 3, 20 + i).map((v) => (v + 1) / 2),
    y: Int32Array.from({ length: 8 }, (_, j) => (i + j) % 9),
    n: 8,
  }));
  const spec = { arch: 'resnet18' as const, inputSize: size, numClasses: 9, seed: 3 };
  const adam = { name: 'adam' as const, learningRate: 1e-3 };
  const straight = async () => {
    const tr = new InProcessTrainer(spec, adam);
    // What results store as the backend: the TensorFlow library, not just tfjs's "tensorflow".
    assert.match(tr.backend, /^tensorflow \(libtensorflow \d+\.\d+\.\d+\)$/);
    for (const b of batches) await tr.trainStep(b);
    const s = flat(await tr.getState());
    await tr.dispose();
    return s;
  };
  const a = await straight();
  const b = await straight();
  assert.ok(a.equals(b), 'two identical runs differ');
  const first = new InProcessTrainer(spec, adam);
  for (const b of batches.slice(0, 2)) await first.trainStep(b);
  const checkpoint = await first.getState();
  await first.dispose();
  const resumed = new InProcessTrainer(spec, adam);
  await resumed.setState(checkpoint);
  for (const b of batches.slice(2)) await resumed.trainStep(b);
  assert.ok(flat(await resumed.getState()).equals(a), 'a resumed run differs from an uninterrupted one');
  await resumed.dispose();
  await tf.setBackend('cpu');
});
