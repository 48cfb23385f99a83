import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import type { PreparedDataset } from '../../core/data/prepare';
import type { StudyResults } from '../../core/report/results';
import { startLocalS3, type LocalS3Server } from '../../infra/s3-server';
import { startTemporalDevServer, type TemporalDevServer } from '../../infra/temporal-server';
import { getJson } from '../../store';
import { S3ArtifactStore } from '../../store/s3-store';
import { progressQuery, type StudyProgress, type StudyWorkflow } from '../../workflows';
import { tempDir, testOutputDir, uniqueId } from '../helpers/env';
import { activityRecords } from '../helpers/history';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

/**
 * Crashes and outages in the middle of a real study (data stages: dataset + every Xiao variant), against a
 * Temporal dev server and a versitygw of this suite's own, so that they can be stopped and restarted.
 */
describe('a study survives crashes and outages', () => {
  let temporal: TemporalDevServer;
  let s3: LocalS3Server;
  let connection: Connection;
  let client: Client;
  const logDir = path.join(testOutputDir(), 'logs');
  const workers: WorkerProcess[] = [];

  before(async () => {
    const work = await tempDir('durability-');
    [temporal, s3] = await Promise.all([
      startTemporalDevServer({ dbFile: path.join(work, 'temporal.db'), logDir, headless: true }),
      startLocalS3({ dataDir: path.join(work, 's3'), logDir }),
    ]);
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection });
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await connection?.close();
    await temporal?.stop();
    await s3?.stop();
  });

  const spec = (name: string) => ({
    version: 1,
    name,
    dataset: { source: 'synthetic', classes: 9, perClass: { train: 120, val: 30 }, size: 48, seed: 3 },
    variants: [
      'original',
      'only_bg_b',
      'only_bg_t',
      'no_fg',
      'only_fg',
      'mixed_same',
      'mixed_rand',
      'mixed_next',
    ],
    evaluate: { pairingRepeats: 2 },
  });

  const setup = (name: string) => {
    const taskQueue = uniqueId(name);
    const prefix = uniqueId(name);
    const worker = (label: string) => {
      const w = spawnWorker({
        queue: 'cpu',
        taskQueue,
        temporalAddress: temporal.address,
        s3: { endpoint: s3.endpoint, bucket: s3.bucket, prefix, credentials: s3.credentials },
        name: `${taskQueue}-${label}`,
      });
      workers.push(w);
      return w;
    };
    const store = new S3ArtifactStore({
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      credentials: s3.credentials,
      prefix,
    });
    const start = (s: unknown) =>
      startStudy(client, s, {
        taskQueue,
        workflowId: `${taskQueue}-study`,
        workflowOptions: { heartbeatTimeout: '5s' },
      });
    return { worker, store, start };
  };

  const waitFor = async (handle: WorkflowHandle<typeof StudyWorkflow>, ok: (p: StudyProgress) => boolean) => {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p && ok(p)) return p;
      await sleep(100);
    }
    throw new Error('study did not reach the expected stage in time');
  };

  const assertComplete = async (store: S3ArtifactStore, resultsKey: string | undefined) => {
    assert.ok(resultsKey);
    const results = await getJson<StudyResults>(store, resultsKey);
    assert.equal(results.variants.length, 11, '8 variants, 3 of them paired twice for testing');
    for (const v of results.variants) {
      assert.ok(v.manifestKey && (await store.stat(v.manifestKey)), `variant ${v.id} is in the store`);
    }
    assert.ok(results.dataset && (await store.stat(results.dataset.manifestKey)));
    return results;
  };

  test('SIGKILL of the worker mid-study: a new worker finishes it; finished stages are not redone', async () => {
    const { worker, store, start } = setup('kill');
    const first = worker('first');
    const handle = await start(spec('kill'));
    const at = await waitFor(handle, (p) => (p.stages.variants?.done ?? 0) >= 2);
    await first.kill();
    worker('second');
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    await assertComplete(store, result.resultsKey);
    const records = await activityRecords(client, handle.workflowId);
    assert.equal(records.get('prepareDataset')?.completed, 1, 'the dataset was prepared once');
    const variants = records.get('materializeVariant')!;
    assert.equal(variants.completed, 11, 'each variant completed exactly once');
    assert.equal(variants.scheduled, 11, 'no variant was scheduled twice');
    // Only what was in flight at the kill ran again (at most the variant concurrency, 4).
    assert.ok(
      variants.failedAttempts >= 1 && variants.failedAttempts <= 4,
      `retried attempts after the kill at ${at.stages.variants!.done} done: ${variants.failedAttempts}`,
    );
    await store.close();
  });

  test('the Temporal server stopped and restarted on the same SQLite file mid-study: it completes', async () => {
    const { worker, store, start } = setup('restart');
    worker('w');
    const handle = await start(spec('restart'));
    await waitFor(handle, (p) => (p.stages.variants?.done ?? 0) >= 1);
    await temporal.process.stop();
    await sleep(1_000);
    temporal = await startTemporalDevServer({
      dbFile: temporal.dbFile,
      logDir,
      headless: true,
      port: Number(temporal.address.split(':')[1]),
    });
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    await assertComplete(store, result.resultsKey);
    await store.close();
  });

  test('S3 unavailable for a while: activities retry and the study completes', async () => {
    const { worker, store, start } = setup('outage');
    worker('w');
    const handle = await start(spec('outage'));
    await waitFor(handle, (p) => (p.stages.variants?.done ?? 0) >= 1);
    await s3.stop();
    await sleep(4_000);
    await s3.restart();
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    await assertComplete(store, result.resultsKey);
    await store.close();
  });

  test('the same spec again: every stage is reused, nothing is recomputed', async () => {
    const { worker, store, start } = setup('rerun');
    worker('w');
    const first = await (await start(spec('rerun'))).result();
    const keysBefore = await store.list('');
    const modified = async () =>
      Promise.all(keysBefore.map(async (k) => `${k} ${(await store.stat(k))?.modified.toISOString()}`));
    const modifiedBefore = await modified();
    await sleep(1_100); // S3 times are to the second: a rewrite now would show
    const handle = await start(spec('rerun'));
    const second = await handle.result();
    assert.equal(second.resultsKey, first.resultsKey);
    assert.deepEqual(await store.list(''), keysBefore, 'no new artifact was written');
    assert.deepEqual(await modified(), modifiedBefore, 'nothing was rewritten (the report files included)');
    const records = await activityRecords(client, handle.workflowId, (await handle.describe()).runId);
    const dataset = records.get('prepareDataset')!.results as PreparedDataset[];
    assert.deepEqual(
      dataset.map((d) => d.reused),
      [true],
    );
    const variants = records.get('materializeVariant')!.results as { reused: boolean }[];
    assert.equal(variants.length, 11);
    assert.ok(
      variants.every((v) => v.reused),
      'every variant was found in the store',
    );
    await store.close();
  });
});
