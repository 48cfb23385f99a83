import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import { loadConfig } from '../../config/config';
import { createStore } from '../../store';
import { S3ArtifactStore } from '../../store/s3-store';
import { tempDir, testServices, uniqueId } from '../helpers/env';
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

test('a wrong S3 secret fails the study with an auth error that names the store, never the secret', async () => {
  const planted = 'planted-WRONG-secret-7f3a9c1e5b';
  const taskQueue = uniqueId('badauth');
  const s3 = {
    ...services.s3,
    prefix: uniqueId('badauth'),
    credentials: { ...services.s3.credentials, secretAccessKey: planted },
  };
  const worker = spawnWorker({
    queue: 'cpu',
    taskQueue,
    temporalAddress: services.temporalAddress,
    s3,
    name: `${taskQueue}-cpu`,
    env: { BGSTUDY_LOG_LEVEL: 'DEBUG' },
  });
  workers.push(worker);
  const handle = await startStudy(
    client,
    {
      version: 1,
      name: 'badauth',
      dataset: { source: 'synthetic', classes: 2, perClass: { train: 4, val: 2 }, size: 16 },
      variants: ['original'],
    },
    { taskQueue, workflowId: `${taskQueue}-study`, workflowOptions: { gpuTaskQueue: `${taskQueue}-gpu` } },
  );
  const err = await handle.result().then(
    () => assert.fail('the study should fail on the wrong secret'),
    (e: unknown) => e,
  );
  const shown = inspect(err, { depth: 20 });
  // the user sees the store's refusal, not a spec error
  assert.match(shown, /StoreAuthError/);
  assert.doesNotMatch(shown, /study spec rejected/);
  const history = await handle.fetchHistory();
  const failure = history.events?.find((e) => e.activityTaskFailedEventAttributes)
    ?.activityTaskFailedEventAttributes?.failure;
  assert.equal(failure?.applicationFailureInfo?.type, 'StoreAuthError');
  assert.match(
    failure?.message ?? '',
    /S3 refused the credentials for s3:\/\/.* \((SignatureDoesNotMatch|InvalidAccessKeyId|HTTP 403)\)/,
  );
  const places: [string, string][] = [
    ['the client error', shown],
    [worker.logFile, await readFile(worker.logFile, 'utf8')],
    ['history', JSON.stringify(history)],
  ];
  const leaks = places.filter(([, text]) => text.includes(planted)).map(([where]) => where);
  assert.deepEqual(leaks, [], 'the wrong secret leaked into these places');
});

test('S3 credentials from a shared-credentials profile: the AWS SDK default chain, nothing in bgstudy config', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'credentials');
  const { accessKeyId, secretAccessKey } = services.s3.credentials;
  await writeFile(
    file,
    `[bgtest]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`,
  );
  const saved = { ...process.env };
  try {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    Object.assign(process.env, {
      AWS_SHARED_CREDENTIALS_FILE: file,
      AWS_CONFIG_FILE: path.join(dir, 'no-config'),
      AWS_PROFILE: 'bgtest',
    });
    const config = loadConfig({
      ...process.env,
      BGSTUDY_STORE: 's3',
      BGSTUDY_S3_BUCKET: services.s3.bucket,
      BGSTUDY_S3_ENDPOINT: services.s3.endpoint,
      BGSTUDY_S3_PREFIX: uniqueId('profile'),
    });
    assert.ok(!JSON.stringify(config).includes(secretAccessKey), 'the config holds no secret');
    const store = createStore(config.store);
    await store.put('probe/x.json', '{"ok":true}');
    assert.equal((await store.get('probe/x.json')).toString(), '{"ok":true}');
    await store.close();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});
