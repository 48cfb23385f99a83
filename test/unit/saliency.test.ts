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
