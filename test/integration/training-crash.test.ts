import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import type { TrainRunOutput } from '../../core/contracts';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import { S3ArtifactStore } from '../../store/s3-store';
import { testServices, uniqueId } from '../helpers/env';
import { activityRecords } from '../helpers/history';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

/**
 * The GPU-queue worker is SIGKILLed in the middle of training; a new one takes the retry, resumes from the
 * newest checkpoint in S3, and the study completes with every artifact. The batches redone are at most one
 * checkpoint interval.
 */
const services = testServices();
let connection: Connection;
let client: Client;
const workers: WorkerProcess[] = [];

before(async () => {
  connection = await Connection.connect({ address: services.temporalAddress });
  client = new Client({ connection });
});
after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await connection?.close();
});

test('SIGKILL of the training worker: training resumes from the last checkpoint and the study completes', async () => {
  const interval = 4;
  const taskQueue = uniqueId('crash');
  const gpuTaskQueue = `${taskQueue}-gpu`;
  const prefix = uniqueId('crash');
  const s3 = { ...services.s3, prefix };
  const worker = (queue: 'cpu' | 'gpu', label: string) => {
    const w = spawnWorker({
      queue,
      taskQueue: queue === 'cpu' ? taskQueue : gpuTaskQueue,
      temporalAddress: services.temporalAddress,
      s3,
      name: `${taskQueue}-${label}`,
      // The other study tests train on whatever setup made fastest (tfjs-node in CI); this one keeps the
      // default of a machine without it covered: wasm, data-parallel over two worker threads.
      env: queue === 'gpu' ? { BGSTUDY_BACKEND: 'wasm', BGSTUDY_WORKERS: '2' } : {},
    });
    workers.push(w);
    return w;
  };
  worker('cpu', 'cpu');
  const firstGpu = worker('gpu', 'gpu1');
  const spec = {
    version: 1,
    name: 'crash',
    dataset: { source: 'synthetic', classes: 3, perClass: { train: 200, val: 12 }, size: 16, seed: 5 },
    variants: ['original', 'only_bg_t'],
    train: [{ model: 'small_cnn', on: ['original'], epochs: 8, batch: 8, checkpointEveryBatches: interval }],
    evaluate: { on: ['original', 'only_bg_t'] },
  };
  const handle = await startStudy(client, spec, {
    taskQueue,
    workflowId: `${taskQueue}-study`,
    workflowOptions: { gpuTaskQueue, heartbeatTimeout: '5s' },
  });

  // Kill the worker without warning once training is past its first epoch (watched in the store, where the
  // checkpoints land; heartbeats reach the server throttled, too late on a fast machine).
  const store = new S3ArtifactStore(s3);
  const checkpoints = async () =>
    (await store.list('runs/'))
      .map((k) => /\/ckpt\/(\d{4})-(\d{6})\/checkpoint\.json$/.exec(k))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ epoch: Number(m[1]), batch: Number(m[2]) }));
  const newestOf = (cs: { epoch: number; batch: number }[]) =>
    cs.reduce<{ epoch: number; batch: number } | undefined>(
      (a, b) => (!a || b.epoch > a.epoch || (b.epoch === a.epoch && b.batch > a.batch) ? b : a),
      undefined,
    );
  const deadline = Date.now() + 240_000;
  let killed = false;
  while (!killed && Date.now() < deadline) {
    const newest = newestOf(await checkpoints());
    if (newest && newest.epoch >= 1) {
      await firstGpu.kill();
      killed = true;
    } else await sleep(50);
  }
  assert.ok(killed, 'training passed its first epoch while the test watched');
  // What the dead worker left behind; the retry must start at the newest of it.
  const newest = newestOf(await checkpoints())!;
  worker('gpu', 'gpu2');

  const result = await handle.result();
  assert.equal(result.status, 'completed');
  const results = await getJson<StudyResults>(store, result.resultsKey!);
  assert.equal(results.rows.length, 1);
  assert.equal(results.rows[0]!.curves.length, 8, 'every epoch is in the curves');
  assert.match(results.rows[0]!.backend, /^wasm \(2 workers\)/);
  for (const c of ['original', 'only_bg_t']) assert.ok(Number.isFinite(results.rows[0]!.accuracy[c]), c);
  assert.ok(await store.stat(results.rows[0]!.modelKey), 'the final model is in the store');
  await store.close();

  const runWorkflowId = `${handle.workflowId}/run/${results.rows[0]!.runId}`;
  const train = (await activityRecords(client, runWorkflowId)).get('trainModel')!;
  assert.equal(train.completed, 1);
  assert.ok(train.failedAttempts >= 1, 'the killed attempt was retried');
  const out = train.results[0] as TrainRunOutput;
  assert.ok(out.resumedFrom, 'the retry resumed from a checkpoint');
  // The retry started at the newest checkpoint the dead worker wrote (checkpoints are `interval` batches
  // apart, so at most `interval` batches were redone), not from scratch.
  assert.deepEqual(out.resumedFrom, newest, 'resumed at the newest checkpoint in the store');
  assert.ok(newest.epoch >= 1, 'not from scratch');
  assert.equal(out.reused, false);
});
