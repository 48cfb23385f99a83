import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { InProcessTrainer } from '../../core/ml/in-process-trainer';
import {
  batchesPerEpoch,
  CheckpointMismatchError,
  train,
  type TrainCheckpoint,
  type TrainConfig,
} from '../../core/ml/train';
import type { TrainerState } from '../../core/ml/trainer';
import type { ModelSpec } from '../../core/ml/model-spec';
import { memorySource, toySamples } from '../helpers/memory-source';

const spec: ModelSpec = { arch: 'small_cnn', inputSize: 8, numClasses: 3, seed: 5 };
const config: TrainConfig = {
  epochs: 3,
  batchSize: 4,
  seed: 11,
  optimizer: { name: 'adam', learningRate: 0.01 },
  augment: { shift: 1, flip: true },
  checkpointEvery: 2,
};
const classes = ['a', 'b', 'c'];
// 18 samples at batch 4: batches of 4,4,4,4,2 (5 per epoch); the source is 10px, so every image is resized to 8.
const data = {
  train: memorySource(toySamples(18, 10, 3, 1), classes),
  val: memorySource(toySamples(6, 10, 3, 2, 'v'), classes),
};

function flat(state: TrainerState): number[] {
  return [...state.weights, ...state.optimizer].flatMap((a) => [...a.data]);
}

async function fullRun(): Promise<{ checkpoints: TrainCheckpoint[]; final: TrainerState; curves: unknown }> {
  const trainer = new InProcessTrainer(spec, config.optimizer);
  const checkpoints: TrainCheckpoint[] = [];
  const out = await train(trainer, data, config, { saveCheckpoint: async (c) => void checkpoints.push(c) });
  const final = await trainer.getState();
  await trainer.dispose();
  assert.equal(out.stepsRun, 15);
  return { checkpoints, final, curves: out.curves };
}

void test('batches per epoch skip only a trailing single image', () => {
  assert.equal(batchesPerEpoch(18, 4), 5);
  assert.equal(batchesPerEpoch(17, 4), 4);
  assert.equal(batchesPerEpoch(16, 4), 4);
  assert.equal(batchesPerEpoch(1, 4), 0);
});

void test('training records curves and checkpoints every N batches and at every epoch end', async () => {
  await tf.setBackend('cpu');
  const { checkpoints, curves } = await fullRun();
  assert.deepEqual(
    checkpoints.map((c) => `${c.cursor.epoch}-${c.cursor.batch}`),
    ['0-2', '0-4', '1-0', '1-2', '1-4', '2-0', '2-2', '2-4', '3-0'],
  );
  const rows = curves as {
    epoch: number;
    trainSeen: number;
    valSeen: number;
    trainLoss: number;
    valAcc: number;
  }[];
  assert.deepEqual(
    rows.map((r) => [r.epoch, r.trainSeen, r.valSeen]),
    [
      [0, 18, 6],
      [1, 18, 6],
      [2, 18, 6],
    ],
  );
  assert.ok(rows.every((r) => Number.isFinite(r.trainLoss) && r.valAcc >= 0 && r.valAcc <= 1));
  assert.ok(
    rows[2]!.trainLoss < rows[0]!.trainLoss,
    `train loss ${rows[0]!.trainLoss} -> ${rows[2]!.trainLoss}`,
  );
  // Mid-epoch checkpoints carry the epoch's partial sums; epoch-end ones the finished curves.
  assert.equal(checkpoints[1]!.running.seen, 16);
  assert.equal(checkpoints[2]!.curves.length, 1);
});

void test('resuming from any checkpoint ends with the same weights, optimizer state and curves as the uninterrupted run', async () => {
  await tf.setBackend('cpu');
  const full = await fullRun();
  for (const i of [0, 1, 2, 3, 7]) {
    const ckpt = full.checkpoints[i]!;
    const trainer = new InProcessTrainer(spec, config.optimizer);
    const out = await train(trainer, data, config, { resume: ckpt });
    const at = `${ckpt.cursor.epoch}-${ckpt.cursor.batch}`;
    assert.equal(out.stepsRun, 15 - (ckpt.cursor.epoch * 5 + ckpt.cursor.batch), at);
    assert.deepEqual(out.curves, full.curves, `curves after resuming at ${at}`);
    assert.deepEqual(flat(await trainer.getState()), flat(full.final), `state after resuming at ${at}`);
    await trainer.dispose();
  }
});

void test('an aborted run resumed from its newest checkpoint redoes at most one interval and matches the uninterrupted run', async () => {
  await tf.setBackend('cpu');
  const full = await fullRun();
  const saved: TrainCheckpoint[] = [];
  const abort = new AbortController();
  let steps = 0;
  const t1 = new InProcessTrainer(spec, config.optimizer);
  await assert.rejects(
    train(t1, data, config, {
      signal: abort.signal,
      saveCheckpoint: async (c) => void saved.push(c),
      onBatch: () => {
        if (++steps === 8) abort.abort(new Error('worker lost'));
      },
    }),
    /worker lost/,
  );
  await t1.dispose();
  const newest = saved.at(-1)!;
  assert.deepEqual(
    newest.cursor,
    { epoch: 1, batch: 2 },
    'after 8 steps the newest checkpoint is epoch 1, batch 2 (step 7)',
  );
  const t2 = new InProcessTrainer(spec, config.optimizer);
  const out = await train(t2, data, config, { resume: newest });
  assert.equal(out.stepsRun, 15 - 7, 'redoes only the one step after the last checkpoint');
  assert.deepEqual(out.curves, full.curves);
  assert.deepEqual(flat(await t2.getState()), flat(full.final));
  await t2.dispose();
});

void test('a checkpoint of another configuration is refused', async () => {
  await tf.setBackend('cpu');
  const full = await fullRun();
  const trainer = new InProcessTrainer(spec, config.optimizer);
  await assert.rejects(
    train(trainer, data, { ...config, seed: 12 }, { resume: full.checkpoints[0]! }),
    CheckpointMismatchError,
  );
  await trainer.dispose();
});
