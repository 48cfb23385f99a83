import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import { S3ArtifactStore } from '../../store/s3-store';
import { testServices, uniqueId } from '../helpers/env';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

/**
 * The S3 secret the workers really use (versitygw's root secret, passed as AWS_SECRET_ACCESS_KEY the way a user
 * would) must appear nowhere a study leaves traces: worker logs, workflow histories (inputs, results, heartbeats),
 * stored artifacts and the report.
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
  await Promise.all(workers.map((w) => w.stop()));
  await connection?.close();
});

test('the S3 secret appears in no log, history, artifact or report of a study', async () => {
  const secret = services.s3.credentials.secretAccessKey;
  assert.ok(secret.length >= 12, 'the planted secret is long enough to be found');
  const taskQueue = uniqueId('secrets');
  const s3 = { ...services.s3, prefix: uniqueId('secrets') };
  for (const queue of ['cpu', 'gpu'] as const) {
    workers.push(
      spawnWorker({
        queue,
        taskQueue: queue === 'cpu' ? taskQueue : `${taskQueue}-gpu`,
        temporalAddress: services.temporalAddress,
        s3,
        name: `${taskQueue}-${queue}`,
        env: { BGSTUDY_LOG_LEVEL: 'DEBUG' },
      }),
    );
  }
  const handle = await startStudy(
    client,
    {
      version: 1,
      name: 'secrets',
      dataset: { source: 'synthetic', classes: 3, perClass: { train: 12, val: 6 }, size: 16 },
      variants: ['original', 'only_bg_t', 'mixed_rand'],
      train: [{ on: ['original'], epochs: 1, batch: 8 }],
      evaluate: { challenge: { backgrounds: 3, foregrounds: 3 }, saliency: { samples: 3 } },
    },
    { taskQueue, workflowId: `${taskQueue}-study`, workflowOptions: { gpuTaskQueue: `${taskQueue}-gpu` } },
  );
  const result = await handle.result();
  assert.equal(result.status, 'completed');

  const places: [string, string][] = [];
  for (const w of workers) places.push([w.logFile, await readFile(w.logFile, 'utf8')]);
  const ids = [handle.workflowId];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${handle.workflowId}/"` }))
    ids.push(wf.workflowId);
  assert.ok(ids.length >= 2, 'the run workflow is listed');
  for (const id of ids)
    places.push([`history of ${id}`, JSON.stringify(await client.workflow.getHandle(id).fetchHistory())]);
  const store = new S3ArtifactStore(s3);
  const keys = await store.list('');
  assert.ok(
    keys.some((k) => k.endsWith('report.html')),
    'the report was written',
  );
  for (const key of keys) places.push([key, (await store.get(key)).toString('latin1')]);
  await store.close();

  assert.ok(places.length > 10, `searched ${places.length} places`);
  const leaks = places.filter(([, text]) => text.includes(secret)).map(([where]) => where);
  assert.deepEqual(leaks, [], 'the secret leaked into these places');
});
