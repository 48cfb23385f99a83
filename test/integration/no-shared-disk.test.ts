/**
 * Workers on different machines share only Temporal and the S3 bucket. Here the CPU-queue and GPU-queue workers
 * are separate processes, each in its own empty working directory with its own BGSTUDY_HOME (and so its own
 * download cache), the store is S3 only, and the pretrained models are given as `store:` and `http://` uris:
 * the study (a trained model and two imports of one ONNX file) completes with every cell and the report in S3.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import { S3ArtifactStore } from '../../store/s3-store';
import { tempDir, testServices, uniqueId } from '../helpers/env';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const ONNX = path.join(__dirname, '..', 'fixtures', 'models', 'tiny-cnn.onnx');
const PREPROCESS = {
  inputSize: 32,
  resizeShorter: 36,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
const CLASS_MAP = { '2': 'disk', '5': 'square', '7': 'triangle' };

const services = testServices();
let connection: Connection;
let client: Client;
let http: Server | undefined;
const workers: WorkerProcess[] = [];

before(async () => {
  connection = await Connection.connect({ address: services.temporalAddress });
  client = new Client({ connection });
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  http?.close();
  await connection?.close();
});

test('CPU and GPU workers with nothing on disk in common run a study with store: and http: models', async () => {
  const taskQueue = uniqueId('nodisk');
  const gpuTaskQueue = `${taskQueue}-gpu`;
  const s3 = { ...services.s3, prefix: uniqueId('nodisk') };
  const store = new S3ArtifactStore(s3);
  const onnx = await readFile(ONNX);
  await store.put('uploads/tiny-cnn.onnx', onnx);
  http = createServer((req, res) => {
    if (req.url === '/models/tiny-cnn.onnx') res.end(onnx);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
  const httpUri = `http://127.0.0.1:${(http.address() as AddressInfo).port}/models/tiny-cnn.onnx`;

  const machines: Record<string, string> = {};
  for (const queue of ['cpu', 'gpu'] as const) {
    const dir = await tempDir(`machine-${queue}-`);
    machines[queue] = dir;
    workers.push(
      spawnWorker({
        queue,
        taskQueue: queue === 'cpu' ? taskQueue : gpuTaskQueue,
        temporalAddress: services.temporalAddress,
        s3,
        name: `${taskQueue}-${queue}`,
        cwd: dir,
        env: { BGSTUDY_HOME: path.join(dir, 'home') },
      }),
    );
  }
  const spec = {
    version: 1,
    name: 'nodisk',
    dataset: { source: 'synthetic', classes: 3, perClass: { train: 24, val: 6 }, size: 24, seed: 3 },
    variants: ['original', 'mixed_rand'],
    train: [{ model: 'small_cnn', on: ['original'], epochs: 1, batch: 8 }],
    models: [
      {
        name: 'from-store',
        source: 'onnx',
        uri: 'store:uploads/tiny-cnn.onnx',
        preprocess: PREPROCESS,
        classMap: CLASS_MAP,
      },
      { name: 'from-http', source: 'onnx', uri: httpUri, preprocess: PREPROCESS, classMap: CLASS_MAP },
    ],
    evaluate: { pairingRepeats: 1 },
  };
  const handle = await startStudy(client, spec, {
    taskQueue,
    workflowId: `${taskQueue}-study`,
    workflowOptions: { gpuTaskQueue },
  });
  const result = await handle.result();
  assert.equal(result.status, 'completed');
  const results = await getJson<StudyResults>(store, result.resultsKey!);
  assert.deepEqual(results.rows.map((r) => r.arch).sort(), ['from-http', 'from-store', 'small_cnn']);
  for (const row of results.rows)
    for (const v of ['original', 'mixed_rand'])
      assert.ok(Number.isFinite(row.accuracy[v]), `${row.arch} on ${v}`);
  const [a, b] = results.rows.filter((r) => r.arch.startsWith('from-'));
  assert.deepEqual(a!.accuracy, b!.accuracy, 'the same file from either uri gives the same numbers');
  assert.match((await store.get(result.reportKey!)).toString('utf8'), /from-http/);
  assert.ok(await store.stat(result.htmlKey!), 'the HTML report is in the store');
  // Each worker kept its files in its own folder: nothing is expected in the other's.
  for (const dir of Object.values(machines)) {
    const entries = await readdir(dir);
    assert.ok(
      entries.every((e) => e === 'home'),
      `${dir} holds only the worker's home: ${entries.join(', ')}`,
    );
  }
  await store.close();
});
