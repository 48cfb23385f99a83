import { test } from 'node:test';
import { compare, comparePool, convCases, depthwiseCases, poolCases } from '../helpers/grad-check';
import { registerWasmTrainingKernels } from '../../core/backend/wasm-kernels';
import { patchLimits } from '../../core/backend/wasm-conv2d-backprop-filter';

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
