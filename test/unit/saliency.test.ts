import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { saliencyFromGradient, saliencyMaps, saliencyShare, sampleGrid } from '../../core/ml/saliency';
import type { Sample } from '../../core/data/sample';
import { memorySource } from '../helpers/memory-source';

void test('saliency is |gradient| max over channels, and its share inside the mask is mass-weighted', () => {
  assert.deepEqual([...saliencyFromGradient(Float32Array.from([-3, 1, 2, 0, 0, -5]), 1).subarray(0, 1)], [3]);
  assert.deepEqual(
    [...saliencyFromGradient(Float32Array.from([-3, 1, 2, 0, 0, -5, 0, 0, 0, 1, 1, 1]), 2)],
    [3, 5, 0, 1],
  );
  assert.equal(saliencyShare(Float32Array.from([1, 2, 3, 4]), Float32Array.from([0, 1, 1, 0])), 0.5);
  assert.equal(saliencyShare(Float32Array.from([1, 2, 3, 4]), Float32Array.from([0, 0.5, 1, 0])), 4 / 10);
  assert.equal(saliencyShare(new Float32Array(4), Float32Array.from([1, 1, 1, 1])), null);
});

void test('gradient saliency of a linear model is its weights, and its share follows the mask', async () => {
  await tf.setBackend('cpu');
  // 2x2 RGB input, 2 classes. Class 1's score = 2*R(pixel 0) - 1*G(pixel 3): saliency [2, 0, 0, 1] for class 1.
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [2, 2, 3] }), tf.layers.dense({ units: 2, useBias: false })],
  });
  const w = new Float32Array(12 * 2);
  w[0 * 2 + 1] = 2;
  w[(3 * 3 + 1) * 2 + 1] = -1;
  w[5 * 2 + 0] = 7; // class 0 looks at B of pixel 1
  model.layers[1]!.setWeights([tf.tensor2d(w, [12, 2])]);
  const mk = (id: string, label: number, mask: number[]): Sample => ({
    id,
    label,
    width: 2,
    height: 2,
    rgb: new Uint8Array(12).fill(100),
    mask: Uint8Array.from(mask),
  });
  const out = await saliencyMaps(
    model,
    [mk('a', 1, [255, 0, 0, 0]), mk('b', 1, [0, 0, 0, 255]), mk('c', 0, [0, 255, 0, 0])],
    2,
  );
  assert.deepEqual(
    out.items.map((i) => i.map),
    [
      [255, 0, 0, 128],
      [255, 0, 0, 128],
      [0, 255, 0, 0],
    ],
  );
  assert.deepEqual(
    out.items.map((i) => i.share),
    [2 / 3, 1 / 3, 1],
  );
  assert.deepEqual(
    out.items.map((i) => i.maskArea),
    [0.25, 0.25, 0.25],
  );
  assert.ok(Math.abs(out.meanShare! - 2 / 3) < 1e-9);
  // A linear model's gradient does not depend on the input: SmoothGrad gives the same maps.
  const smooth = await saliencyMaps(
    model,
    [mk('a', 1, [255, 0, 0, 0]), mk('b', 1, [0, 0, 0, 255]), mk('c', 0, [0, 255, 0, 0])],
    2,
    { smoothGrad: { samples: 8, sigma: 0.2, seed: 3 } },
  );
  assert.deepEqual(
    smooth.items.map((i) => i.map),
    out.items.map((i) => i.map),
  );
  model.dispose();
});

void test('SmoothGrad sees a ReLU that is off at the input: its map is the on-rate under noise', async () => {
  await tf.setBackend('cpu');
  // 2x2 RGB input. h0 = relu(R of pixel 0 - 0.6), h1 = relu(G of pixel 3 + 10) (always on); class 0 = h0 + h1.
  // Gradient: 1[R0 > 0.6] at pixel 0, 1 at pixel 3. With R0 = 127/255 = 0.498 the plain map has 0 at pixel 0;
  // SmoothGrad at sigma 0.15 gives P(0.498 + e > 0.6) = P(Z > 0.68) = 1 - 0.7517 (normal table) relative to
  // pixel 3's 1, i.e. 0.2483 * 255 = 63 on the map's 0-255 scale.
  const w = new Float32Array(12 * 2);
  w[0 * 2 + 0] = 1;
  w[10 * 2 + 1] = 1;
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 2, 3] }),
      tf.layers.dense({
        units: 2,
        activation: 'relu',
        weights: [tf.tensor2d(w, [12, 2]), tf.tensor1d([-0.6, 10])],
      }),
      tf.layers.dense({ units: 2, useBias: false, weights: [tf.tensor2d([1, 0, 1, 0], [2, 2])] }),
    ],
  });
  const rgb = new Uint8Array(12);
  rgb[0] = 127;
  const sample: Sample = {
    id: 'x',
    label: 0,
    width: 2,
    height: 2,
    rgb,
    mask: Uint8Array.from([255, 0, 0, 0]),
  };
  const plain = await saliencyMaps(model, [sample], 2);
  assert.deepEqual(plain.items[0]!.map, [0, 0, 0, 255]);
  const sg = await saliencyMaps(model, [sample], 2, { smoothGrad: { samples: 400, sigma: 0.15, seed: 1 } });
  const m = sg.items[0]!.map;
  // 400 draws: the on-rate's standard error is 0.022 (5.5 map units); allow 2.5 of them
  assert.ok(Math.abs(m[0]! - 0.2483 * 255) <= 14, `pixel 0: ${m[0]}`);
  assert.deepEqual(m.slice(1), [0, 0, 255]);
  assert.equal(sg.items[0]!.predicted, 0);
  // deterministic for a seed
  const again = await saliencyMaps(model, [sample], 2, {
    smoothGrad: { samples: 400, sigma: 0.15, seed: 1 },
  });
  assert.deepEqual(again.items[0]!.map, m);
  model.dispose();
});

void test('the sample grid takes the first samples of each class in stored order', async () => {
  const s = (id: string, label: number): Sample => ({
    id,
    label,
    width: 1,
    height: 1,
    rgb: new Uint8Array(3),
  });
  const src = memorySource(
    [s('a0', 0), s('b0', 1), s('a1', 0), s('a2', 0), s('b1', 1), s('c0', 2)],
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    (await sampleGrid(src, 3, 2)).map((x) => x.id),
    ['a0', 'b0', 'a1', 'b1', 'c0'],
  );
});
