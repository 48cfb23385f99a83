import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../core/ml/models';

test('small_cnn maps a batch of NHWC images to logits, identically for the same seed', async () => {
  await tf.setBackend('cpu');
  const spec = { arch: 'small_cnn', inputSize: 16, numClasses: 4, seed: 3 } as const;
  const a = buildModel(spec);
  const b = buildModel(spec);
  const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 1);
  const ya = a.predict(x) as tf.Tensor;
  const yb = b.predict(x) as tf.Tensor;
  assert.deepEqual(ya.shape, [2, 4]);
  assert.deepEqual(await ya.data(), await yb.data());
  tf.dispose([x, ya, yb]);
  a.dispose();
  b.dispose();
});
