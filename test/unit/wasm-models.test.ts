import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend/select-backend';
import { buildModel } from '../../core/ml/models';
import { InProcessTrainer, softmaxCrossEntropy } from '../../core/ml/in-process-trainer';
import type { Architecture } from '../../core/ml/model-spec';
import { values } from '../helpers/grad-check';

const SIZE = 16;
const N = 2;
const pixels = values(N * SIZE * SIZE * 3, 11).map((v) => (v + 1) / 2);
const labels = Int32Array.of(1, 3);

/** Loss and every trainable weight's gradient, concatenated, on the given backend. */
async function lossGradients(arch: Architecture, backend: 'cpu' | 'wasm') {
  await initBackend({ backend });
  const model = buildModel({ arch, inputSize: SIZE, numClasses: 5, seed: 2 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () =>
      softmaxCrossEntropy(
        model.apply(tf.tensor4d(pixels, [N, SIZE, SIZE, 3]), { training: true }) as tf.Tensor2D,
        tf.tensor1d(labels, 'int32'),
      ),
    vars,
  );
  const parts = await Promise.all(vars.map((v) => grads[v.name]!.data()));
  const loss = (await value.data())[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: parts.flatMap((p) => Array.from(p)) };
}

/** max |a - b| over all gradients / max |b|: per-weight ratios are meaningless for near-zero gradients. */
function globalRelErr(a: number[], b: number[]): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

// BatchNorm over a batch of two at 16px amplifies float rounding in deep nets (gradients reach ~1e2), so
// MobileNetV2 is compared at a looser tolerance; a wrong kernel gives errors of order one.
for (const [arch, tolerance] of [
  ['small_cnn', 1e-5],
  ['mobilenet_v2', 1e-3],
] as const) {
  test(`${arch} loss gradients on wasm equal cpu's`, async () => {
    const w = await lossGradients(arch, 'wasm');
    const c = await lossGradients(arch, 'cpu');
    assert.ok(Math.abs(w.loss - c.loss) < 1e-4 * c.loss, `loss ${w.loss} vs ${c.loss}`);
    const e = globalRelErr(w.grads, c.grads);
    assert.ok(e < tolerance, `${arch} gradients differ from cpu by ${e.toExponential(2)} (global relative)`);
  });
}

// The cpu backend takes minutes for the ResNets, so these check that they train on wasm: a few SGD steps
// on one batch lower its loss. Their kernels (7x7/2, 3x3/2, 1x1/2 convs, 3x3/2 max pool) are checked
// against cpu one by one in wasm-kernels.test.ts.
for (const arch of ['resnet18', 'resnet50'] as const) {
  test(`${arch} trains on wasm`, async () => {
    await initBackend({ backend: 'wasm' });
    const trainer = new InProcessTrainer(
      { arch, inputSize: SIZE, numClasses: 5, seed: 2 },
      { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
    );
    try {
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) losses.push((await trainer.trainStep({ x: pixels, y: labels, n: N })).loss);
      assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
      assert.ok(losses.at(-1)! < losses[0]!, `loss did not fall: ${losses.join(', ')}`);
    } finally {
      await trainer.dispose();
    }
  });
}
