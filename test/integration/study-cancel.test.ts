import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import type { S3ArtifactStore } from '../../store/s3-store';
import { cancelSignal, progressQuery } from '../../workflows';
import { startTestStudyEnv, type TestStudyEnv } from '../helpers/study-env';

let env: TestStudyEnv;
let client: Client;
let store: S3ArtifactStore;
let taskQueue: string;

before(async () => {
  env = await startTestStudyEnv('cancel');
  ({ client, store, taskQueue } = env);
});
after(() => env?.stop());

test('the cancel signal stops a study mid-training cleanly: finished artifacts and a partial report stay', async () => {
  const handle = await startStudy(
    client,
    {
      version: 1,
      name: 'cancel',
      dataset: { source: 'synthetic', classes: 3, perClass: { train: 300, val: 6 }, size: 16 },
      variants: ['original', 'only_fg'],
      train: [{ on: ['original'], epochs: 50, batch: 8, checkpointEveryBatches: 5 }],
      execution: { runConcurrency: 1 },
    },
    {
      taskQueue,
      workflowId: `${taskQueue}-study`,
      workflowOptions: { gpuTaskQueue: `${taskQueue}-gpu`, heartbeatTimeout: '10s' },
    },
  );
  // Cancel once training has written a checkpoint (50 epochs would take many minutes).
  const checkpoints = async () => (await store.list('runs/')).filter((k) => k.endsWith('/checkpoint.json'));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && (await checkpoints()).length === 0) await sleep(200);
  assert.equal((await handle.query(progressQuery)).stage, 'runs');
  await handle.signal(cancelSignal);
  const result = await handle.result();
  assert.equal(result.status, 'cancelled');
  assert.equal(result.runs, 0, 'the run in flight did not finish');
  const results = await getJson<StudyResults>(store, result.resultsKey!);
  assert.equal(results.study.cancelled, true);
  assert.equal(results.variants.filter((v) => v.manifestKey).length, 2, 'the finished variants are kept');
  for (const v of results.variants) assert.ok(await store.stat(v.manifestKey!), v.id);
  assert.ok((await checkpoints()).length > 0, 'training checkpoints written before the cancel are kept');
});
