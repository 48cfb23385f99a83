import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTrainingOptions } from '../../cli/training-options';
import { defaultWorkers } from '../../core/backend/parallel-trainer';
import { requestedBackend } from '../../core/backend/select-backend';
import { cli } from '../helpers/cli';
import { withEnv } from '../helpers/env';

test('--backend and --workers become the settings every trainer reads', () =>
  withEnv({ BGSTUDY_BACKEND: undefined, BGSTUDY_WORKERS: undefined }, () => {
    applyTrainingOptions({ backend: 'wasm', workers: '3' });
    assert.equal(requestedBackend(), 'wasm');
    assert.equal(defaultWorkers(), 3);
    for (const bad of ['0', '1.5', 'two'])
      assert.throws(
        () => applyTrainingOptions({ workers: bad }),
        /workers must be a positive integer .*--workers/,
      );
    assert.equal(defaultWorkers(), 3, 'a rejected value changes nothing');
  }));

test('an unknown --backend is refused with the list of backends', async () => {
  await assert.rejects(
    cli(['worker', '--backend', 'tpu']),
    /argument 'tpu' is invalid. Allowed choices are auto, libtorch, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu\./,
  );
});
