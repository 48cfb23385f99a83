import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { startStudy, studyWorkflowId } from '../../client/start-study';
import { SpecValidationError } from '../../common/errors';
import { parseStudySpec } from '../../core/spec/study-spec';
import { S3ArtifactStore } from '../../store/s3-store';
import { getJson } from '../../store';
import { createWorker } from '../../workers/create-worker';
import { installRuntime } from '../../workers/runtime';
import { testServices, uniqueId } from '../helpers/env';

describe('StudyWorkflow against the real Temporal dev server and S3', () => {
  const services = testServices();
  const taskQueue = uniqueId('slice');
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let store: S3ArtifactStore;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    installRuntime();
    nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
    connection = await Connection.connect({ address: services.temporalAddress });
    client = new Client({ connection });
    store = new S3ArtifactStore({ ...services.s3, prefix: uniqueId('slice') });
    worker = await createWorker({ connection: nativeConnection, store, kind: 'cpu', taskQueue });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await nativeConnection?.close();
    await store?.close();
  });

  test('a study records its validated spec in the store; a second run reuses it', async () => {
    const spec = {
      version: 1,
      name: uniqueId('slice'),
      dataset: { source: 'synthetic', classes: 3, perClass: { train: 6, val: 3 }, size: 16 },
      variants: ['original', 'only_fg'],
    };
    const workflowId = `${studyWorkflowId(parseStudySpec(spec))}-${taskQueue}`;
    const first = await (await startStudy(client, spec, { taskQueue, workflowId })).result();
    assert.equal(first.workflowId, workflowId);
    assert.deepEqual(await getJson(store, first.specKey), parseStudySpec(spec));
    const second = await (await startStudy(client, spec, { taskQueue, workflowId })).result();
    assert.equal(second.specKey, first.specKey);
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const completed = history.events?.filter((e) => e.activityTaskCompletedEventAttributes) ?? [];
    const scheduled = (history.events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    assert.deepEqual(
      scheduled.sort(),
      [
        'aggregateResults',
        'materializeVariant',
        'materializeVariant',
        'prepareDataset',
        'registerStudyPlan',
        'registeredSearchAttributes',
      ],
      'register, search attributes, dataset, 2 variants, report',
    );
    assert.equal(completed.length, 6, 'each of them completed once');
  });

  test('a malformed spec is rejected before anything starts, naming the field', async () => {
    const workflowId = uniqueId('bad-spec');
    await assert.rejects(
      startStudy(
        client,
        { ...{ version: 1, dataset: { source: 'synthetic' }, variants: ['original'] }, name: 'has spaces!' },
        { taskQueue, workflowId },
      ),
      (err: unknown) => err instanceof SpecValidationError && /name: /.test(err.message),
    );
    await assert.rejects(client.workflow.getHandle(workflowId).describe(), /not found/i);
  });
});
