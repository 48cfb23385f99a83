import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etaOf, runStatusOf } from '../../client/progress-details';
import { progressLines } from '../../cli/progress-view';
import type { StudyProgress } from '../../workflows';

const ID = 'study-quick-abc/run/1af01d3a474caa9b';

test('a training run is named by what it trains and shows epoch, batch, loss and images/s', () => {
  const s = runStatusOf(
    ID,
    {
      phase: 'train',
      evaluationsDone: 0,
      evaluationsTotal: 4,
      label: 'small_cnn on mixed_rand (seed 1)',
      epochs: 4,
    },
    { epoch: 1, batch: 5, batchesPerEpoch: 10, loss: 0.51234, acc: 0.6, imagesPerSec: 412.4 },
  );
  assert.equal(s.label, 'small_cnn on mixed_rand (seed 1)');
  assert.equal(s.detail, 'train epoch 2/4 batch 5/10 loss 0.512 acc 0.600 412 img/s');
  // 15 of 40 batches, training being 80% of a run
  assert.ok(Math.abs(s.fraction - 0.8 * (15 / 40)) < 1e-9);
});

test('a run started before labels falls back to its id; evaluation counts test sets', () => {
  const s = runStatusOf(ID, { phase: 'evaluate', evaluationsDone: 2, evaluationsTotal: 4 }, undefined, 3);
  assert.equal(s.label, '1af01d3a474caa9b');
  assert.equal(s.detail, 'evaluate 2/4 test sets (attempt 3)');
  assert.ok(s.fraction > 0.8 && s.fraction < 1);
});

test('one batched evaluation for all test sets: the sets done come from its heartbeat', () => {
  // 14 test sets, 4 stored by an earlier attempt, so the activity had 10 left; it is on its 3rd (index 2)
  const s = runStatusOf(
    ID,
    { phase: 'evaluate', evaluationsDone: 0, evaluationsTotal: 14 },
    { variant: 2, variants: 10, done: 300, total: 900 },
  );
  assert.equal(s.detail, 'evaluate 6/14 test sets 300/900 images');
  assert.ok(Math.abs(s.fraction - (0.8 + 0.2 * (6 / 14) * 0.9)) < 1e-9);
});

test('the ETA counts the share of the runs in flight, so it falls as they near their end', () => {
  const startedAt = 0;
  const progress: StudyProgress = {
    stage: 'runs',
    stages: { runs: { done: 1, total: 2, startedAt } },
    running: [ID],
  };
  const run = (batch: number) =>
    runStatusOf(
      ID,
      { phase: 'train', evaluationsDone: 0, evaluationsTotal: 1, label: 'x', epochs: 1 },
      { epoch: 0, batch, batchesPerEpoch: 100 },
    );
  // 60 s in: one run done and the other half trained (0.4 of a run) -> 1.4 runs in 60 s, 0.6 left: 26 s.
  assert.equal(etaOf(progress, [run(50)], 60_000), 'ETA 26s');
  // 10 s later, 90% trained (0.72): 1.72 runs in 70 s, 0.28 left: 11 s, less than before.
  assert.equal(etaOf(progress, [run(90)], 70_000), 'ETA 11s');
  assert.equal(etaOf({ ...progress, stages: { runs: { done: 0, total: 2, startedAt } } }, [], 5_000), '');
});

test('status lines: one per stage (the current one with its ETA), one per run', () => {
  const progress: StudyProgress = {
    stage: 'runs',
    stages: { register: { done: 1, total: 1 }, runs: { done: 1, total: 2, startedAt: 0 } },
    running: [ID],
  };
  const runs = [
    runStatusOf(ID, { phase: 'evaluate', evaluationsDone: 1, evaluationsTotal: 2, label: 'L' }, undefined),
  ];
  assert.deepEqual(progressLines(progress, runs, 10_000), [
    'register   1/1',
    `runs       1/2 ETA ${etaOf(progress, runs, 10_000).slice(4)}`,
    '  L: evaluate 1/2 test sets',
  ]);
});
