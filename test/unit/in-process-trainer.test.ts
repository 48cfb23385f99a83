import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { InProcessTrainer } from '../../core/ml/in-process-trainer';
import type { Batch, OptimizerSpec, TrainerState } from '../../core/ml/trainer';
import type { ModelSpec } from '../../core/ml/model-spec';

/** Class 0: dark images, class 1: bright ones, with seeded per-pixel noise. */
function batch(n: number, size: number, seed: number): Batch {
  let s = seed >>> 0;
  const rand = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const x = new Float32Array(n * size * size * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < size * size * 3; j++) x[i * size * size * 3 + j] = (y[i] ? 0.6 : 0.1) + 0.3 * rand();
  }
  return { x, y, n };
}

/** Every weight and optimizer value as raw bytes (exact comparison; deepEqual on millions of numbers is slow). */
function flat(state: TrainerState): Buffer {
  return Buffer.concat(
    [...state.weights, ...state.optimizer].map((a) =>
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength),
    ),
  );
}

void test('training lowers the loss on a separable problem', async () => {
  await tf.setBackend('cpu');
  const t = new InProcessTrainer(
    { arch: 'small_cnn', inputSize: 8, numClasses: 2, seed: 1 },
    { name: 'adam', learningRate: 0.01 },
  );
  const losses: number[] = [];
  let lastCorrect = 0;
  for (let i = 0; i < 30; i++) {
    const r = await t.trainStep(batch(8, 8, i));
    losses.push(r.loss);
    lastCorrect = r.correct;
  }
  assert.ok(losses[0]! > 0.3, `first loss ${losses[0]}`);
  assert.ok(losses.at(-1)! < losses[0]! / 3, `loss ${losses[0]} -> ${losses.at(-1)}`);
  assert.equal(lastCorrect, 8);
  const logits = await t.predict(batch(2, 8, 99).x, 2);
  assert.equal(logits.length, 4);
  assert.ok(logits[0]! > logits[1]! && logits[3]! > logits[2]!, `logits ${[...logits]}`);
  await t.dispose();
});

const cases: [string, ModelSpec, OptimizerSpec][] = [
  [
    'small_cnn + adam',
    { arch: 'small_cnn', inputSize: 8, numClasses: 2, seed: 2 },
    { name: 'adam', learningRate: 0.003 },
  ],
  [
    'small_cnn + sgd momentum',
    { arch: 'small_cnn', inputSize: 8, numClasses: 2, seed: 2 },
    { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  ],
  [
    'mobilenet_v2 (BatchNorm statistics, depthwise convolutions) + adam',
    { arch: 'mobilenet_v2', inputSize: 8, numClasses: 2, seed: 2 },
    { name: 'adam', learningRate: 0.001 },
  ],
  [
    'efficientnet_b0 (squeeze-and-excitation, swish, 5x5 depthwise) + adam',
    { arch: 'efficientnet_b0', inputSize: 8, numClasses: 2, seed: 2 },
    { name: 'adam', learningRate: 0.001 },
  ],
  [
    'shufflenet_v2 (channel split, concatenation, shuffle) + sgd momentum',
    { arch: 'shufflenet_v2', inputSize: 8, numClasses: 2, seed: 2 },
    { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  ],
];
for (const [name, spec, opt] of cases) {
  void test(`${name}: a restored state continues exactly like the uninterrupted run`, async () => {
    await tf.setBackend('cpu');
    // Big nets are slow on the cpu backend: one step before the checkpoint and one after still test the restore.
    const k = spec.arch === 'small_cnn' ? 2 : 1;
    const a = new InProcessTrainer(spec, opt);
    for (let i = 0; i < k; i++) await a.trainStep(batch(4, 8, i));
    const mid = await a.getState();
    const lossesA: number[] = [];
    for (let i = k; i < 2 * k; i++) lossesA.push((await a.trainStep(batch(4, 8, i))).loss);
    const endA = await a.getState();

    const b = new InProcessTrainer({ ...spec, seed: spec.seed + 1 }, opt);
    // A different seed builds different weights; the restored state must override all of them.
    await b.setState(mid);
    const lossesB: number[] = [];
    for (let i = k; i < 2 * k; i++) lossesB.push((await b.trainStep(batch(4, 8, i))).loss);
    const endB = await b.getState();
    assert.deepEqual(lossesB, lossesA);
    assert.ok(flat(endB).equals(flat(endA)), 'restored run ends in the same state');
    assert.ok(!flat(endA).equals(flat(mid)), 'training changed the state');
    if (spec.arch !== 'small_cnn') {
      const stats = endA.weights.filter((w) => w.name.endsWith('moving_mean'));
      assert.ok(
        stats.length > 10 && stats.some((w) => w.data.some((v) => v !== 0)),
        'BatchNorm statistics are in the state and were updated',
      );
    }
    await Promise.all([a.dispose(), b.dispose()]);
  });
}

void test('a state of another architecture is rejected by name', async () => {
  await tf.setBackend('cpu');
  const a = new InProcessTrainer(
    { arch: 'small_cnn', inputSize: 8, numClasses: 2, seed: 1 },
    { name: 'adam', learningRate: 0.01 },
  );
  const b = new InProcessTrainer(
    { arch: 'small_cnn', inputSize: 8, numClasses: 3, seed: 1 },
    { name: 'adam', learningRate: 0.01 },
  );
  await assert.rejects(b.setState(await a.getState()), /logits\/kernel/);
  await Promise.all([a.dispose(), b.dispose()]);
});

void test('a trainer frees every tensor it made when disposed (long-lived GPU workers train many runs)', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const t = new InProcessTrainer(
    { arch: 'small_cnn', inputSize: 8, numClasses: 2, seed: 1 },
    { name: 'adam', learningRate: 0.01 },
  );
  const during = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await t.trainStep(batch(4, 8, i));
  await t.predict(batch(2, 8, 9).x, 2);
  await t.setState(await t.getState());
  assert.equal(
    tf.memory().numTensors,
    during,
    'steps, predictions and state round trips make no lasting tensors',
  );
  await t.dispose();
  assert.equal(tf.memory().numTensors, before);
});
