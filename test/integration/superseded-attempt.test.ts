import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { probeInterval } from '../../activities/contact-guard';
import { startStudy } from '../../client/start-study';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import { S3ArtifactStore } from '../../store/s3-store';
import { testServices, uniqueId } from '../helpers/env';
import { activityRecords } from '../helpers/history';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

/**
 * A GPU-queue worker reaches Temporal through a TCP proxy and the store directly. Mid-training the proxy is
 * cut: the server times the attempt out while the cut-off worker still has the store. It must stop its attempt by
 * itself (activities/attempt-guard.ts: no answer from Temporal for longer than the heartbeat timeout), say so at
 * INFO, and write nothing more; a second worker, started only then, takes the retry and completes the study.
 * (Starting it only then keeps the test deterministic: the retry prunes checkpoints the old attempt could read.)
 */
const services = testServices();
let connection: Connection;
let client: Client;
let proxy: TcpProxy | undefined;
const workers: WorkerProcess[] = [];

before(async () => {
  connection = await Connection.connect({ address: services.temporalAddress });
  client = new Client({ connection });
});
after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await proxy?.cut();
  await connection?.close();
});

const epochLines = (log: string) => log.split('\n').filter((l) => l.includes('epoch done')).length;

test('a worker cut off from Temporal stops its superseded training attempt; the retry finishes the study', async () => {
  const taskQueue = uniqueId('zombie');
  const gpuTaskQueue = `${taskQueue}-gpu`;
  const s3 = { ...services.s3, prefix: uniqueId('zombie') };
  proxy = await startTcpProxy(services.temporalAddress);
  const worker = (queue: 'cpu' | 'gpu', label: string, temporalAddress = services.temporalAddress) => {
    const w = spawnWorker({
      queue,
      taskQueue: queue === 'cpu' ? taskQueue : gpuTaskQueue,
      temporalAddress,
      s3,
      name: `${taskQueue}-${label}`,
    });
    workers.push(w);
    return w;
  };
  worker('cpu', 'cpu');
  const cutOff = worker('gpu', 'gpu-behind-proxy', proxy.address);
  const epochs = 12;
  const spec = {
    version: 1,
    name: 'zombie',
    dataset: { source: 'synthetic', classes: 3, perClass: { train: 160, val: 12 }, size: 16, seed: 7 },
    variants: ['original'],
    train: [{ model: 'small_cnn', on: ['original'], epochs, batch: 8, checkpointEveryBatches: 5 }],
    evaluate: { on: ['original'] },
  };
  const handle = await startStudy(client, spec, {
    taskQueue,
    workflowId: `${taskQueue}-study`,
    workflowOptions: { gpuTaskQueue, heartbeatTimeout: '4s' },
  });

  // Cut once the first epoch's checkpoint is in the store (the worker behind the proxy is training).
  const store = new S3ArtifactStore(s3);
  const deadline = Date.now() + 240_000;
  const epochCheckpoint = async () =>
    (await store.list('runs/')).some((k) => /\/ckpt\/0001-000000\/checkpoint\.json$/.test(k));
  while (!(await epochCheckpoint())) {
    assert.ok(Date.now() < deadline, 'training reached its first epoch');
    await sleep(100);
  }
  await proxy.cut();
  const cutAt = Date.now();

  // The cut-off worker notices by itself, long before the study ends, and says so at INFO with the reason.
  // (The logger writes each entry's fields on the lines after its message.)
  let log = '';
  // (An earlier attempt on this worker may have been timed out by the server before training began, at load, with
  // a 4 s timeout: the SDK stops that one with 'Temporal no longer has this attempt'. The guard's stop is sought.)
  const stopped = /\[INFO\] trainModel stopped[^[]*reason: '(superseded: no contact[^']*)'/;
  while (!stopped.test(log)) {
    assert.ok(Date.now() < deadline, `the cut-off worker stopped its attempt (log: ${cutOff.logFile})`);
    await sleep(200);
    log = await readFile(cutOff.logFile, 'utf8');
  }
  const stoppedAfterMs = Date.now() - cutAt;
  const reason = stopped.exec(log)![1]!;
  assert.match(reason, /^superseded: no contact with Temporal for [\d.]+ s/);
  // Silent for longer than the heartbeat timeout, so no heartbeat of it can have reached the server in that time.
  assert.ok(Number(/for ([\d.]+) s/.exec(reason)![1]) > 4, reason);
  assert.match(log, /\[INFO\] trainModel attempt stopping/);
  const epochsBeforeStop = epochLines(log);
  assert.ok(epochsBeforeStop < epochs, 'it stopped before finishing the run');
  // The last answered probe may precede the cut by up to one probe interval, so the stop follows the cut by at
  // least the timeout less that interval.
  assert.ok(stoppedAfterMs >= 4_000 - probeInterval(4_000), `stopped ${stoppedAfterMs} ms after the cut`);
  // Nothing more is written by the stopped attempt (the run's checkpoints stay as they are), then the retry runs.
  const written = (await store.list('runs/')).sort();
  await sleep(3_000);
  assert.deepEqual((await store.list('runs/')).sort(), written, 'no write after the stop');
  worker('gpu', 'gpu-direct');

  const result = await handle.result();
  assert.equal(result.status, 'completed');
  const results = await getJson<StudyResults>(store, result.resultsKey!);
  assert.equal(results.rows[0]!.curves.length, epochs, 'every epoch is in the curves');
  // Trained to the end by the retry, with no further epoch on the cut-off worker.
  assert.equal(epochLines(await readFile(cutOff.logFile, 'utf8')), epochsBeforeStop);
  const runWorkflowId = `${handle.workflowId}/run/${results.rows[0]!.runId}`;
  const train = (await activityRecords(client, runWorkflowId)).get('trainModel')!;
  assert.equal(train.completed, 1);
  assert.ok(train.failedAttempts >= 1, 'the cut-off attempt timed out and was retried');
  await store.close();
});
