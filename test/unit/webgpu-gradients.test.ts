import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from '../../core/backend/backend-errors';
import { initWebGpu } from '../../core/backend/webgpu-backend';
import { compare, comparePool, convCases, depthwiseCases, poolCases } from '../helpers/grad-check';

/** GPU float math (and llvmpipe's) differs from cpu's summation order more than wasm's does. */
const TOLERANCE = 1e-4;

test('webgpu backend gradients match the cpu backend', async (t) => {
  try {
    const adapter = await initWebGpu({ allowSoftware: true });
    t.diagnostic(`webgpu adapter: ${adapter.adapter} (dawn ${adapter.dawnBackend})`);
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    console.log(`skipping webgpu gradient tests: ${err.message}`);
    t.skip(err.message);
    return;
  }
  for (const c of [...convCases.slice(0, 6), ...depthwiseCases.slice(0, 3)]) {
    await t.test(`${c.kind} ${c.h}x${c.w}x${c.ci}->${c.co} k${c.kh} s${c.strides} ${c.pad}`, () =>
      compare(c, 'webgpu', TOLERANCE),
    );
  }
  // Ties are left out: which of equal maxima gets the gradient is a backend's choice (webgpu differs from cpu).
  for (const p of poolCases.filter((q) => !q.ties)) {
    await t.test(`maxPool ${p.h}x${p.w}x${p.c} ${p.size} s${p.strides} ${p.pad}`, () =>
      comparePool(p, 'webgpu', TOLERANCE),
    );
  }
  await tf.setBackend('cpu');
});
