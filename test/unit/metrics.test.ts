import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyOf,
  argmaxRow,
  bgGap,
  crossEntropyRow,
  emptyConfusion,
  perClassAccuracy,
} from '../../core/ml/metrics';
import { evaluateSource } from '../../core/ml/evaluate';
import type { Sample } from '../../core/data/sample';
import { memorySource } from '../helpers/memory-source';

void test('argmax, cross-entropy, accuracy, per-class accuracy and BG-Gap on handmade numbers', () => {
  const logits = Float32Array.from([0, 0, 1, 3, 2, 0]);
  assert.equal(argmaxRow(logits, 2, 0), 0, 'ties go to the lowest index');
  assert.equal(argmaxRow(logits, 3, 1), 0);
  assert.ok(Math.abs(crossEntropyRow(logits, 2, 0, 1) - Math.log(2)) < 1e-12);
  // Row [3, 2, 0], label 1: log(e^3 + e^2 + e^0) - 2.
  assert.ok(
    Math.abs(crossEntropyRow(logits, 3, 1, 1) - (Math.log(Math.exp(3) + Math.exp(2) + 1) - 2)) < 1e-9,
  );
  assert.ok(crossEntropyRow(Float32Array.from([1000, -1000]), 2, 0, 1) > 1999, 'stable for large logits');

  const c = emptyConfusion(3);
  c[0]![0] = 3;
  c[0]![1] = 1;
  c[1]![1] = 2;
  assert.equal(accuracyOf(c), 5 / 6);
  assert.deepEqual(perClassAccuracy(c, ['a', 'b', 'c']), [
    { class: 'a', n: 4, correct: 3, accuracy: 0.75 },
    { class: 'b', n: 2, correct: 2, accuracy: 1 },
    { class: 'c', n: 0, correct: 0, accuracy: null },
  ]);
  assert.ok(Math.abs(bgGap(0.862, 0.789) - 0.073) < 1e-12);
});

function solid(id: string, label: number, r: number): Sample {
  const rgb = new Uint8Array(4 * 4 * 3);
  for (let p = 0; p < 16; p++) rgb[p * 3] = r;
  return { id, label, width: 4, height: 4, rgb };
}

void test('evaluateSource fills the confusion matrix from a model that predicts class 0 for red images', async () => {
  // Logits [red, 1 - red] from the first pixel's red channel.
  const predict = async (x: Float32Array, n: number) => {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      out[i * 2] = x[i * 48]!;
      out[i * 2 + 1] = 1 - x[i * 48]!;
    }
    return out;
  };
  const samples = [
    solid('r0', 0, 255),
    solid('r1', 0, 200),
    solid('d0', 0, 10),
    solid('d1', 1, 0),
    solid('d2', 1, 30),
  ];
  const progress: number[] = [];
  const e = await evaluateSource(predict, memorySource(samples, ['red', 'dark']), {
    inputSize: 4,
    numClasses: 2,
    batchSize: 2,
    onProgress: (done) => void progress.push(done),
  });
  assert.deepEqual(e.confusion, [
    [2, 1],
    [0, 2],
  ]);
  assert.equal(e.accuracy, 4 / 5);
  assert.equal(e.n, 5);
  assert.deepEqual(progress, [2, 4, 5]);
  // every image's outcome, in stored order across batch boundaries (d0 is labelled red but dark: predicted dark)
  assert.deepEqual(e.perImage, {
    ids: ['r0', 'r1', 'd0', 'd1', 'd2'],
    labels: [0, 0, 0, 1, 1],
    predicted: [0, 0, 1, 1, 1],
  });
  assert.ok(e.loss > 0 && e.loss < Math.log(2) + 0.2);
  await assert.rejects(
    evaluateSource(predict, memorySource([solid('bad', 7, 0)], ['red', 'dark']), {
      inputSize: 4,
      numClasses: 2,
      batchSize: 2,
    }),
    /sample bad: label 7/,
  );
});
