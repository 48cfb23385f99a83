import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../core/backend/select-backend';
import { InProcessTrainer } from '../../core/ml/in-process-trainer';
import { globalRelErr, labels, lossGradients, N, pixels, SIZE } from '../helpers/model-grads';

// BatchNorm over a batch of two at 16px amplifies float rounding in deep nets (gradients reach ~1e2), so
// MobileNetV2 is compared at a looser tolerance; a wrong kernel gives errors of order one.
for (const [arch, tolerance] of [
  ['small_cnn', 1e-5],
  ['mobilenet_v2', 1e-3],
  ['efficientnet_b0', 1e-3],
  ['shufflenet_v2', 1e-3],
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
