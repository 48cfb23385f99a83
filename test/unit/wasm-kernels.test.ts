import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  compare,
  comparePool,
  convCases,
  depthwiseCases,
  poolCases,
  relErr,
  values,
} from '../helpers/grad-check';
import { registerWasmTrainingKernels } from '../../core/backend/wasm-kernels';
import { patchLimits } from '../../core/backend/wasm-conv2d-backprop-filter';
import { heapIndex } from '../../core/backend/wasm-heap';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

test('wasm training kernels match the cpu backend', async (t) => {
  registerWasmTrainingKernels();
  for (const c of [...convCases, ...depthwiseCases]) {
    await t.test(
      `${c.kind} n${c.n} ${c.h}x${c.w}x${c.ci}->${c.co} k${c.kh}x${c.kw} s${c.strides} ${c.pad}${c.dilation ? ` d${c.dilation}` : ''}`,
      () => compare(c),
    );
  }
});

test('Conv2DBackpropFilter gives the same gradient when the batch is split into chunks', async () => {
  registerWasmTrainingKernels();
  const saved = patchLimits.maxFloats;
  patchLimits.maxFloats = 2 * 8 * 8 * 9 * 4; // two images per chunk, the last chunk short
  try {
    await compare({
      kind: 'conv',
      n: 5,
      h: 8,
      w: 8,
      ci: 4,
      co: 6,
      kh: 3,
      kw: 3,
      strides: [1, 1],
      pad: 'same',
    });
  } finally {
    patchLimits.maxFloats = saved;
  }
});

test('wasm MaxPoolGrad matches the cpu backend', async (t) => {
  registerWasmTrainingKernels();
  for (const p of poolCases)
    await t.test(`${p.h}x${p.w}x${p.c} pool ${p.size} s${p.strides} ${p.pad}${p.ties ? ' ties' : ''}`, () =>
      comparePool(p),
    );
});

test('wasm Sum/Mean over leading axes, Tile of a row and BatchMatMul with a tiny inner dimension match cpu', async () => {
  registerWasmTrainingKernels();
  const xv = values(4 * 5 * 6 * 3, 21);
  const wv = values(3 * 2, 22);
  const results: Record<string, Float32Array[]> = {};
  for (const name of ['cpu', 'wasm']) {
    await tf.setBackend(name);
    const x = tf.tensor4d(xv, [4, 5, 6, 3]);
    const outs = [
      tf.sum(x, [0, 1, 2]),
      tf.sum(x, [0, 1], true),
      tf.sum(x, [1, 2]), // not leading: the stock kernel
      tf.mean(x, [0, 1, 2]),
      tf.mean(x, [0], true),
      tf.tile(tf.tensor4d(wv.slice(0, 3), [1, 1, 1, 3]), [4, 5, 7, 1]), // 140 copies: doubling with a remainder
      tf.tile(tf.tensor2d(wv, [2, 3]), [2, 2]), // stock
      tf.matMul(x.reshape([120, 3]), tf.tensor2d(wv, [3, 2])),
      tf.matMul(x.reshape([4, 30, 3]), tf.tensor3d(wv, [1, 3, 2])),
    ];
    assert.deepEqual(outs[1]!.shape, [1, 1, 6, 3]);
    assert.deepEqual(outs[8]!.shape, [4, 30, 2]);
    assert.deepEqual(outs[5]!.shape, [4, 5, 7, 3]);
    results[name] = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose([x, ...outs]);
  }
  results.cpu!.forEach((c, i) => assert.ok(relErr(results.wasm![i]!, c) < 1e-6, `output ${i}`));
});

test("wasm Identity shares its input's data: same values, and each side survives the other's dispose", async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  const backend = tf.backend() as BackendWasm;
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.engine().runKernel<tf.Tensor>('Identity', { x });
  assert.equal(heapIndex(backend, y), heapIndex(backend, x), 'no second buffer');
  x.dispose();
  assert.deepEqual([...(await y.data())], [1, 2, 3]);
  const z = tf.engine().runKernel<tf.Tensor>('Identity', { x: y });
  y.dispose();
  assert.deepEqual([...(await z.data())], [1, 2, 3]);
  z.dispose();
  assert.equal(tf.memory().numTensors, before);
});
