import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../store/fs-store';
import { runKey, StoreCheckpoints } from '../../core/ml/checkpoint-store';
import { decodeState, encodeState } from '../../core/ml/state-codec';
import type { TrainCheckpoint, TrainConfig } from '../../core/ml/train';

const config: TrainConfig = {
  epochs: 2,
  batchSize: 4,
  seed: 1,
  optimizer: { name: 'adam', learningRate: 0.001 },
  augment: null,
  checkpointEvery: 0,
};

function ckpt(epoch: number, batch: number, v: number): TrainCheckpoint {
  return {
    fingerprint: 'f',
    cursor: { epoch, batch },
    rngState: 1234567890 + v,
    running: { lossSum: v, correct: 1, seen: 4 },
    curves: [],
    state: {
      weights: [{ name: 'conv1/kernel', shape: [2, 2], data: Float32Array.from([v, -v, 1e-8, 3.4e38]) }],
      optimizer: [{ name: 'step', shape: [], data: Float32Array.of(v) }],
    },
  };
}

void test('state codec round-trips float32 arrays exactly', () => {
  const state = ckpt(0, 0, Math.PI).state;
  const { header, body } = encodeState(state);
  assert.equal(body.length, 5 * 4);
  assert.deepEqual(decodeState(header, body), state);
  assert.throws(
    () => decodeState(header, body.subarray(0, 8), 'x.bin'),
    /x.bin: array conv1\/kernel runs past the end/,
  );
});

void test('run keys change with every input that changes the result', () => {
  const base = {
    model: { arch: 'small_cnn' as const, inputSize: 32, numClasses: 9, seed: 1 },
    data: { train: 'a', val: 'b' },
    config,
    engine: 'tfjs-node',
  };
  const k = runKey(base);
  assert.match(k, /^runs\/[0-9a-f]{16}$/);
  assert.equal(runKey({ ...base }), k);
  assert.notEqual(runKey({ ...base, config: { ...config, seed: 2 } }), k);
  assert.notEqual(runKey({ ...base, data: { train: 'a2', val: 'b' } }), k);
  assert.notEqual(runKey({ ...base, model: { ...base.model, arch: 'resnet18' } }), k);
  assert.notEqual(runKey({ ...base, engine: 'libtorch-cpu-fp32' }), k);
});

void test('the newest complete checkpoint is found; incomplete ones are ignored and old ones pruned', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ckpt-'));
  const store = new FsArtifactStore(root);
  const cps = new StoreCheckpoints(store, 'runs/abc', 2);
  assert.equal(await cps.latest(), undefined);
  await cps.save(ckpt(0, 5, 1));
  await cps.save(ckpt(1, 0, 2));
  await cps.save(ckpt(10, 0, 3)); // epoch 10 sorts after 1 because folders are zero-padded
  assert.deepEqual(await cps.list(), [
    'runs/abc/ckpt/0001-000000/checkpoint.json',
    'runs/abc/ckpt/0010-000000/checkpoint.json',
  ]);
  assert.deepEqual(await store.list('runs/abc/ckpt/0000-000005'), [], 'pruned with its state');
  assert.deepEqual(
    (await readdir(path.join(root, 'runs', 'abc', 'ckpt'))).sort(),
    ['0001-000000', '0010-000000'],
    'no empty folder is left where a checkpoint was pruned',
  );
  // A crash after the state but before the JSON: not a checkpoint.
  await store.put('runs/abc/ckpt/0011-000000/state.bin', Buffer.alloc(4));
  assert.deepEqual(await cps.latest(), ckpt(10, 0, 3));
});
