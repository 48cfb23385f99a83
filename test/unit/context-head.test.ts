import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Sample } from '../../core/data/sample';
import { Rng } from '../../core/data/rng';
import { ContextHeadTrainer } from '../../core/ml/context-head';
import type { ModelSpec } from '../../core/ml/model-spec';
import { buildModel } from '../../core/ml/models';
import { writeWeights } from '../../core/ml/in-process-trainer';
import { samplePixels } from '../../core/ml/pixels';
import { train, type TrainCheckpoint, type TrainConfig } from '../../core/ml/train';
import type { TrainerState } from '../../core/ml/trainer';
import { memorySource } from '../helpers/memory-source';

// 8 px (small_cnn pools to 1 x 1): the test's point is the head, not the image size, and cpu tfjs is slow
const SIZE = 8;
const spec: ModelSpec = { arch: 'small_cnn', inputSize: SIZE, numClasses: 3, seed: 3 };
const classes = ['r', 'g', 'b'];

/**
 * Images whose class is the object's colour channel and whose context is independent of it: a dark (0) or a
 * bright (1) background, like "sea" or not. The context is learnable from the pooled features, and knowing the
 * class says nothing about it (chance is 1/2).
 */
function images(
  n: number,
  seed: number,
  prefix: string,
): { samples: Sample[]; context: Map<string, number> } {
  const rng = new Rng(seed);
  const context = new Map<string, number>();
  const samples = Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    const bright = rng.next() < 0.5 ? 1 : 0;
    const rgb = new Uint8Array(SIZE * SIZE * 3);
    const x0 = rng.intIn(0, SIZE / 2);
    const y0 = rng.intIn(0, SIZE / 2);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const inside = x >= x0 && x < x0 + SIZE / 2 && y >= y0 && y < y0 + SIZE / 2;
        const bg = bright ? rng.intIn(170, 230) : rng.intIn(20, 80);
        for (let c = 0; c < 3; c++) rgb[(y * SIZE + x) * 3 + c] = inside ? (c === label ? 255 : 0) : bg;
      }
    const id = `${prefix}${i}`;
    context.set(id, bright);
    return { id, label, width: SIZE, height: SIZE, rgb };
  });
  return { samples, context };
}

const config: TrainConfig = {
  epochs: 4,
  batchSize: 8,
  seed: 2,
  optimizer: { name: 'adam', learningRate: 0.01 },
  augment: null,
  checkpointEvery: 3,
};
const trainSet = images(48, 1, 't');
const testSet = images(40, 2, 'v');
const data = {
  train: memorySource(trainSet.samples, classes),
  val: memorySource(testSet.samples, classes),
  context: (s: Sample) => trainSet.context.get(s.id)!,
};

function flat(state: TrainerState): Buffer {
  return Buffer.concat(
    [...state.weights, ...state.optimizer].map((a) =>
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength),
    ),
  );
}

function argmaxRows(logits: Float32Array, n: number): number[] {
  const k = logits.length / n;
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
    return best;
  });
}

void test('the context head learns its label (held-out accuracy well above chance) while the class head learns the class', async () => {
  await tf.setBackend('cpu');
  const trainer = new ContextHeadTrainer(spec, config.optimizer, { classes: 2, weight: 1 });
  const out = await train(trainer, data, config);
  const x = new Float32Array(testSet.samples.length * SIZE * SIZE * 3);
  testSet.samples.forEach((s, i) => x.set(samplePixels(s, SIZE), i * SIZE * SIZE * 3));
  const n = testSet.samples.length;
  const ctx = argmaxRows(await trainer.predictContext(x, n), n);
  const ctxAcc = ctx.filter((c, i) => c === testSet.context.get(testSet.samples[i]!.id)).length / n;
  // chance is 1/2 (and the majority share of this test set is below 0.7): 0.85 is far outside it
  const majority =
    Math.max(...[0, 1].map((k) => [...testSet.context.values()].filter((c) => c === k).length)) / n;
  assert.ok(majority < 0.7, `test set majority ${majority}`);
  assert.ok(ctxAcc >= 0.85, `context accuracy on held-out images ${ctxAcc}`);
  // the curves record the context head's training accuracy, and it rose
  const curve = out.curves.map((c) => c.trainContextAcc!);
  assert.ok(
    curve.every((a) => Number.isFinite(a)),
    JSON.stringify(out.curves),
  );
  assert.ok(curve.at(-1)! > curve[0]!, `context train accuracy ${curve.join(' -> ')}`);
  // predict is the class head: its logits have one column per class, and the class is learnt too
  const logits = await trainer.predict(x, n);
  assert.equal(logits.length, n * 3);
  const classAcc = argmaxRows(logits, n).filter((p, i) => p === testSet.samples[i]!.label).length / n;
  assert.ok(classAcc >= 0.8, `class accuracy ${classAcc}`);
  assert.ok(out.curves.at(-1)!.valAcc >= 0.8, 'the validation curve measures the class head');

  // the stored model is the class model alone: an ordinary model of the spec, giving the same logits
  const weights = await trainer.classWeights();
  assert.ok(!weights.some((w) => w.name.startsWith('context')), 'no context weights in the class model');
  const plain = buildModel(spec);
  writeWeights(plain, weights);
  const again = tf.tidy(() => plain.predict(tf.tensor4d(x, [n, SIZE, SIZE, 3])) as tf.Tensor);
  const plainLogits = (await again.data()) as Float32Array;
  again.dispose();
  plain.dispose();
  assert.deepEqual(Array.from(plainLogits), Array.from(logits));
  // the checkpointed state has both heads
  const state = await trainer.getState();
  assert.equal(state.weights.length, weights.length + 2);
  await trainer.dispose();
});

void test('a context-head run resumed from any checkpoint ends where the uninterrupted run ends', async () => {
  await tf.setBackend('cpu');
  const cfg: TrainConfig = { ...config, epochs: 2, checkpointEvery: 2 };
  const small = {
    ...data,
    train: memorySource(trainSet.samples.slice(0, 24), classes),
    val: memorySource(testSet.samples.slice(0, 8), classes),
  };
  const checkpoints: TrainCheckpoint[] = [];
  const t0 = new ContextHeadTrainer(spec, cfg.optimizer, { classes: 2, weight: 0.5 });
  const full = await train(t0, small, cfg, { saveCheckpoint: async (c) => void checkpoints.push(c) });
  const final = flat(await t0.getState());
  await t0.dispose();
  // 3 batches an epoch, checkpoints every 2 batches and at epoch ends; resume mid-epoch (the running context
  // accuracy comes back from the checkpoint) and at an epoch start
  assert.deepEqual(
    checkpoints.map((c) => `${c.cursor.epoch}-${c.cursor.batch}`),
    ['0-2', '1-0', '1-2', '2-0'],
  );
  assert.equal(checkpoints[0]!.running.seen, 16);
  assert.ok(checkpoints[0]!.running.contextCorrect !== undefined);
  for (const ckpt of [checkpoints[0]!, checkpoints[2]!]) {
    const t = new ContextHeadTrainer(spec, cfg.optimizer, { classes: 2, weight: 0.5 });
    const out = await train(t, small, cfg, { resume: ckpt });
    const at = `${ckpt.cursor.epoch}-${ckpt.cursor.batch}`;
    assert.deepEqual(out.curves, full.curves, `curves after resuming at ${at}`);
    assert.ok(flat(await t.getState()).equals(final), `state after resuming at ${at}`);
    await t.dispose();
  }
});

void test('the loss weight matters: weight 0.5 and weight 2 train different class models from the same start', async () => {
  await tf.setBackend('cpu');
  const cfg: TrainConfig = { ...config, epochs: 1 };
  const states: Buffer[] = [];
  for (const weight of [0.5, 2]) {
    const t = new ContextHeadTrainer(spec, cfg.optimizer, { classes: 2, weight });
    await train(
      t,
      {
        ...data,
        train: memorySource(trainSet.samples.slice(0, 16), classes),
        val: memorySource(testSet.samples.slice(0, 4), classes),
      },
      cfg,
    );
    const w = await t.classWeights();
    states.push(
      Buffer.concat(w.map((a) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength))),
    );
    await t.dispose();
  }
  assert.ok(!states[0]!.equals(states[1]!));
});

void test('a batch without context labels is refused by the context trainer', async () => {
  await tf.setBackend('cpu');
  const t = new ContextHeadTrainer(spec, config.optimizer, { classes: 2, weight: 1 });
  await assert.rejects(
    train(t, { train: data.train, val: data.val }, { ...config, epochs: 1 }),
    /one context label per image/,
  );
  await t.dispose();
});
