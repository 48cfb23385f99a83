import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { configureEngineFromEnv } from '../../config/engine';
import { configureEngine } from '../../core/backend/engine-settings';
import { BACKEND_NAMES, describeBackend, initBackend } from '../../core/backend/select-backend';

/** tfjs's own name for each of ours (libtorch trains outside tfjs; it also sets up the best tfjs backend). */
const TF_NAME: Record<string, string> = {
  'tfjs-node-gpu': 'tensorflow',
  'tfjs-node': 'tensorflow',
  webgpu: 'webgpu',
  wasm: 'wasm',
  cpu: 'cpu',
};

test('auto picks the first usable backend in order and says why it skipped the others', async () => {
  const lines: string[] = [];
  configureEngine({});
  {
    const info = await initBackend({ log: (l) => lines.push(l) });
    assert.equal(tf.getBackend(), TF_NAME[info.name === 'libtorch' ? String(info.details.tfjs) : info.name]);
    const skipped = lines.filter((l) => l.includes(' skipped: ')).map((l) => l.split(' ')[1]);
    assert.deepEqual(skipped, BACKEND_NAMES.slice(0, BACKEND_NAMES.indexOf(info.name)));
    assert.match(lines.at(-1)!, new RegExp(`^backend: ${info.name} \\(`));
    assert.match(info.version, /^(@tensorflow\/tfjs-[a-z-]+|libtorch) \d+\.\d+\.\d+$/);
    // The math works on whatever was picked (await data(): webgpu has no dataSync).
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    assert.deepEqual(Array.from(await y.data()), [19, 22, 43, 50]);
  }
});

test('wasm reports SIMD and the project kernels; BGSTUDY_BACKEND and the option override the choice', async () => {
  const wasm = await initBackend({ backend: 'wasm' });
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(String(wasm.details.projectKernels), /Conv2DBackpropFilter/);
  assert.match(describeBackend(wasm), /^wasm \(@tensorflow\/tfjs-backend-wasm 4\.22\.0; .*simd=/);
  // The variable as a worker or the CLI reads it at start (config/engine.ts).
  configureEngineFromEnv({ BGSTUDY_BACKEND: 'cpu' });
  try {
    assert.equal((await initBackend()).name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await initBackend({ backend: 'wasm' })).name, 'wasm');
    configureEngineFromEnv({ BGSTUDY_BACKEND: 'tpu' });
    await assert.rejects(initBackend(), /unknown backend "tpu" \(BGSTUDY_BACKEND or --backend\)/);
  } finally {
    configureEngine({});
  }
});

test('tfjs-node reports its libtensorflow where it loads, and says how to set it up where it does not', async () => {
  try {
    const info = await initBackend({ backend: 'tfjs-node' });
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.match(
      describeBackend(info),
      /^tfjs-node \(@tensorflow\/tfjs-node 4\.22\.0; .*libtensorflow=\d+\.\d+/,
    );
  } catch (err) {
    // CI runs setup with --tfjs-node required: there it must load.
    assert.notEqual(process.env.BGSTUDY_REQUIRE_TFJS_NODE, '1', String(err));
    assert.equal((err as Error).name, 'BackendUnavailableError');
    assert.match((err as Error).message, /tfjs-node is not usable .*npm run setup builds/);
  }
});
