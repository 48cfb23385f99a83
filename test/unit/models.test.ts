import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, channelHalf, channelShuffle } from '../../core/ml/models';
import { ARCHITECTURES, type ModelSpec } from '../../core/ml/model-spec';

/** Trainable parameter count of torchvision's (biasless-conv) reference nets minus their 1000-class head. */
const TRAINABLE_BODY: Record<string, [number, number]> = {
  // [min, max]: the stem differs with input size (3x3 below 64px), so a range around the reference.
  resnet18: [11_160_000, 11_180_000],
  resnet50: [23_490_000, 23_510_000],
  mobilenet_v2: [2_220_000, 2_226_000],
  // torchvision's efficientnet_b0 (5,288,548) and shufflenet_v2_x1_0 (2,278,604) less their 1,000-class head.
  efficientnet_b0: [4_007_548, 4_007_548],
  shufflenet_v2: [1_253_604, 1_253_604],
};

function trainableCount(m: tf.LayersModel): number {
  return m.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

for (const arch of ARCHITECTURES) {
  void test(`${arch} maps NHWC images to logits, identically for the same seed and differently for another`, async () => {
    await tf.setBackend('cpu');
    const spec: ModelSpec = { arch, inputSize: 16, numClasses: 4, seed: 3 };
    const a = buildModel(spec);
    const b = buildModel(spec);
    const c = buildModel({ ...spec, seed: 4 });
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 1);
    const [ya, yb, yc] = [a, b, c].map((m) => m.apply(x, { training: true }) as tf.Tensor);
    assert.deepEqual(ya!.shape, [2, 4]);
    const [da, db, dc] = await Promise.all([ya!.data(), yb!.data(), yc!.data()]);
    assert.deepEqual(da, db);
    assert.notDeepEqual(da, dc);
    assert.ok([...da].every(Number.isFinite));
    // Normalization is inside the model: the first layer after the input is the fixed, untrainable one.
    assert.equal(a.layers[1]!.name, 'normalize');
    assert.equal(a.layers[1]!.trainable, false);
    const range = TRAINABLE_BODY[arch];
    if (range) {
      const head = a.getLayer('logits').countParams();
      const body = trainableCount(a) - head;
      assert.ok(body >= range[0] && body <= range[1], `${arch}: ${body} trainable body parameters`);
    }
    tf.dispose([x, ya, yb, yc]);
    [a, b, c].forEach((m) => m.dispose());
  });
}

void test('a bigger input size builds the ImageNet stem and still ends in one logit row per image', async () => {
  await tf.setBackend('cpu');
  const m = buildModel({ arch: 'resnet18', inputSize: 64, numClasses: 3, seed: 1 });
  assert.ok(m.layers.some((l) => l.name === 'stem_pool'));
  const y = m.predict(tf.zeros([1, 64, 64, 3])) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 3]);
  m.dispose();
});

void test('invalid specs are rejected with the field that is wrong', () => {
  assert.throws(() => buildModel({ arch: 'small_cnn', inputSize: 4, numClasses: 2, seed: 1 }), /inputSize/);
  assert.throws(() => buildModel({ arch: 'small_cnn', inputSize: 16, numClasses: 1, seed: 1 }), /numClasses/);
  assert.throws(
    () => buildModel({ arch: 'vgg' as never, inputSize: 16, numClasses: 2, seed: 1 }),
    /unknown architecture/,
  );
});

void test('ShuffleNetV2 channel shuffle and split move each channel where torchvision puts it', async () => {
  await tf.setBackend('cpu');
  // Channel k of every pixel holds k (plus 100 x the pixel index, to catch spatial mixing).
  const [h, w, c] = [2, 3, 8];
  const x = tf.tensor4d(
    Array.from({ length: h * w * c }, (_, i) => (i % c) + 100 * Math.floor(i / c)),
    [1, h, w, c],
  );
  const input = tf.input({ shape: [h, w, c] });
  const m = tf.model({
    inputs: input,
    outputs: [channelShuffle(input, 't'), channelHalf(input, 0, 'a'), channelHalf(input, 1, 'b')],
  });
  const [shuffled, first, second] = (m.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
  // torchvision: x.view(n, 2, c / 2, h, w).transpose(1, 2).flatten: output channel j reads channel
  // (j % 2) * c / 2 + floor(j / 2); chunk(2) takes channels [0, c/2) and [c/2, c).
  const expectShuffle: number[] = [];
  const expectFirst: number[] = [];
  const expectSecond: number[] = [];
  for (let p = 0; p < h * w; p++) {
    for (let j = 0; j < c; j++) expectShuffle.push(((j % 2) * c) / 2 + Math.floor(j / 2) + 100 * p);
    for (let j = 0; j < c / 2; j++) expectFirst.push(j + 100 * p);
    for (let j = c / 2; j < c; j++) expectSecond.push(j + 100 * p);
  }
  assert.deepEqual(shuffled, expectShuffle);
  assert.deepEqual(first, expectFirst);
  assert.deepEqual(second, expectSecond);
  x.dispose();
  m.dispose();
});
