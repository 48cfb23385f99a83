import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../core/backend/select-backend';
import { ParallelTrainer, splitRows } from '../../core/backend/parallel-trainer';
import { createTrainer } from '../../core/backend/create-trainer';
import { InProcessTrainer } from '../../core/ml/in-process-trainer';
import type { ModelSpec } from '../../core/ml/model-spec';
import type { Batch, OptimizerSpec, StepTrainer, TrainerState } from '../../core/ml/trainer';
import { relErr, values } from '../helpers/grad-check';

const spec: ModelSpec = { arch: 'small_cnn', inputSize: 16, numClasses: 4, seed: 5 };
const adam: OptimizerSpec = { name: 'adam', learningRate: 0.01 };

function batch(n: number, seed: number): Batch {
  const x = values(n * 16 * 16 * 3, seed).map((v) => (v + 1) / 2);
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 4);
  return { x, y, n };
}

async function run(trainer: StepTrainer, batches: Batch[]) {
  const steps = [];
  for (const b of batches) steps.push(await trainer.trainStep(b));
  const state = await trainer.getState();
  const logits = await trainer.predict(batches[0]!.x, batches[0]!.n);
  return { steps, state, logits };
}

function flat(state: TrainerState): Float32Array {
  const parts = state.weights.map((w) => w.data);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('splitRows covers every row once, in order, with sizes differing by at most one', () => {
  assert.deepEqual(splitRows(7, 3), [
    [0, 2],
    [2, 4],
    [4, 7],
  ]);
  assert.deepEqual(splitRows(1, 2), [
    [0, 0],
    [0, 1],
  ]);
});

test('two wasm workers train like one process on the same global batches (and stay in sync)', async () => {
  // Batches of 6, 5 (uneven split) and 1 (one worker idle).
  const batches = [batch(6, 1), batch(5, 2), batch(6, 3), batch(1, 4)];
  await initBackend({ backend: 'wasm' });
  const single = new InProcessTrainer(spec, adam);
  const a = await run(single, batches);
  await single.dispose();

  const parallel = await ParallelTrainer.create({
    modelSpec: spec,
    optimizer: adam,
    backend: 'wasm',
    workers: 2,
  });
  try {
    assert.equal(parallel.backend, 'wasm (2 workers)');
    const b = await run(parallel, batches);
    for (let i = 0; i < batches.length; i++) {
      assert.ok(
        Math.abs(a.steps[i]!.loss - b.steps[i]!.loss) <= 1e-5 * Math.abs(a.steps[i]!.loss),
        `step ${i} loss ${a.steps[i]!.loss} vs ${b.steps[i]!.loss}`,
      );
      assert.equal(b.steps[i]!.correct, a.steps[i]!.correct, `step ${i} correct`);
    }
    // The weights moved, and moved the same way.
    const initial = flat({
      weights: (await new InProcessTrainer(spec, adam).getState()).weights,
      optimizer: [],
    });
    assert.ok(relErr(flat(a.state), initial) > 1e-3, 'training did not change the weights');
    assert.ok(
      relErr(flat(b.state), flat(a.state)) < 1e-5,
      `weights differ by ${relErr(flat(b.state), flat(a.state))}`,
    );
    assert.ok(relErr(b.logits, a.logits) < 1e-5, 'predictions differ');
    assert.equal(b.state.optimizer[0]!.data[0], batches.length, 'optimizer step count');
    // Every worker holds bit-identical weights.
    const [w0, w1] = await parallel.getWorkerStates();
    assert.deepEqual(flat(w1!), flat(w0!));

    // setState reaches every worker: restoring the start state reproduces the first step exactly.
    await parallel.setState(await new InProcessTrainer(spec, adam).getState());
    const again = await parallel.trainStep(batches[0]!);
    assert.equal(again.loss, b.steps[0]!.loss);
  } finally {
    await parallel.dispose();
  }
});

test('createTrainer picks data-parallel wasm workers when more than one is allowed', async () => {
  const { trainer, backend, workers } = await createTrainer({
    modelSpec: spec,
    optimizer: adam,
    backend: 'wasm',
    workers: 2,
  });
  try {
    assert.equal(backend.name, 'wasm');
    assert.equal(workers, 2);
    assert.ok(trainer instanceof ParallelTrainer);
    const r = await trainer.trainStep(batch(4, 9));
    assert.ok(Number.isFinite(r.loss) && r.loss > 0);
  } finally {
    await trainer.dispose();
  }
  const one = await createTrainer({ modelSpec: spec, optimizer: adam, backend: 'wasm', workers: 1 });
  assert.ok(one.trainer instanceof InProcessTrainer);
  await one.trainer.dispose();
});
