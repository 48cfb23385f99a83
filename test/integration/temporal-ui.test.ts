import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { startStudy } from '../../client/start-study';
import { STUDY_DATASET, STUDY_NAME, STUDY_PRESET, STUDY_SPEC_HASH } from '../../common/search-attributes';
import { startTestStudyEnv, type TestStudyEnv } from '../helpers/study-env';

/**
 * The Temporal UI's view of a study, read back from the server: static summary and details on the study and
 * its child runs, a summary on every activity, current details, and the search attributes that
 * `temporal workflow list --query 'BgStudy="..."'` filters on (registered by the dev server test/run-tests.ts
 * started, as on every dev server this project starts).
 */
let env: TestStudyEnv;
let client: Client;

before(async () => {
  env = await startTestStudyEnv('ui');
  ({ client } = env);
});
after(() => env?.stop());

const NAME = `ui-${Date.now().toString(36)}`;
const SPEC = {
  version: 1,
  name: NAME,
  report: { title: 'UI metadata' },
  dataset: { source: 'synthetic', classes: 3, perClass: { train: 12, val: 6 }, size: 16, seed: 2 },
  variants: ['original', 'only_fg'],
  train: [{ model: 'small_cnn', on: ['only_fg'], epochs: 1, batch: 8, seed: 4 }],
};

/** Summaries of the activities a workflow scheduled, decoded from its history. */
async function activitySummaries(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => {
      const p = e.userMetadata?.summary;
      return p ? defaultPayloadConverter.fromPayload<string>(p) : '(none)';
    });
}

test('the study and its runs tell their story in the Temporal UI and are found by search attribute', async () => {
  const handle = await startStudy(client, SPEC, {
    taskQueue: env.taskQueue,
    workflowId: `${env.taskQueue}-study`,
    workflowOptions: { gpuTaskQueue: env.gpuTaskQueue, preset: 'ui-preset' },
  });
  const result = await handle.result();

  const study = await handle.describe();
  assert.equal(await study.staticSummary(), `bgstudy study ${NAME}: UI metadata`);
  assert.match((await study.staticDetails()) ?? '', /dataset: synthetic[\s\S]*variants: original, only_fg/);
  const sa = study.typedSearchAttributes;
  assert.equal(sa.get(STUDY_NAME), NAME);
  assert.equal(sa.get(STUDY_SPEC_HASH), result.studyHash);
  assert.equal(sa.get(STUDY_PRESET), 'ui-preset');
  const datasetKey = sa.get(STUDY_DATASET);
  assert.ok(datasetKey && (await env.store.stat(datasetKey)), `dataset key ${datasetKey} is in the store`);
  const metadata = await handle.query(workflowMetadataQuery);
  assert.match(metadata.currentDetails ?? '', /\*\*done\*\*[\s\S]*runs: 1\/1[\s\S]*report: /);
  // Variants are made concurrently, in the plan's order: compare as sets.
  assert.deepEqual((await activitySummaries(handle.workflowId)).sort(), [
    'aggregate the results and write the report',
    'make variant only_fg',
    'make variant original',
    'prepare the synthetic dataset',
    "read the plan's runs from 0",
    'validate and plan the study spec',
    'which search attributes the namespace has',
  ]);

  // The child run: named by what it trains, with its settings as details and a summary on each activity.
  const children: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${handle.workflowId}/"` }))
    children.push(wf.workflowId);
  assert.equal(children.length, 1);
  const run = await client.workflow.getHandle(children[0]!).describe();
  assert.equal(await run.staticSummary(), 'small_cnn on only_fg (seed 4)');
  assert.match((await run.staticDetails()) ?? '', /trained on: only_fg, 1 epoch\(s\), batch 8, seed 4/);
  const runActivities = await activitySummaries(children[0]!);
  assert.equal(runActivities[0], 'train small_cnn on only_fg (seed 4)');
  // one evaluation activity over the run's test sets (patched 'batched-evaluation'): only_fg and original
  assert.ok(runActivities.includes('evaluate on 2 test sets'), runActivities.join(', '));

  // The list query the README shows (visibility is eventually consistent: poll briefly).
  let found: string[] = [];
  for (let i = 0; i < 20 && !found.includes(handle.workflowId); i++) {
    found = [];
    for await (const wf of client.workflow.list({
      query: `BgStudy="${NAME}" AND BgStudySpecHash="${result.studyHash}"`,
    }))
      found.push(wf.workflowId);
    if (!found.includes(handle.workflowId)) await sleep(500);
  }
  assert.deepEqual(found, [handle.workflowId]);
});
