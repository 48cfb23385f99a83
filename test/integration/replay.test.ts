import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../workers/create-worker';
import { installRuntime } from '../../workers/runtime';

/**
 * Replays recorded histories (test/histories/*.json, made by test/histories/record.ts) against today's workflow
 * code: a change that would break studies already running fails here, unless it is versioned with patched().
 */
test('recorded study histories replay deterministically with the current workflow code', async () => {
  installRuntime();
  const dir = path.resolve(__dirname, '..', 'histories');
  const ids = JSON.parse(await readFile(path.join(dir, 'workflow-ids.json'), 'utf8')) as Record<
    string,
    string
  >;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && f in ids).sort();
  assert.ok(files.length >= 2, 'recorded histories are listed in test/histories/workflow-ids.json');
  const histories = await Promise.all(
    files.map(async (f) => ({
      workflowId: ids[f]!,
      history: historyFromJSON(JSON.parse(await readFile(path.join(dir, f), 'utf8'))),
    })),
  );
  const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
  let count = 0;
  for await (const r of results) {
    assert.equal(r.error, undefined, `${r.workflowId}: ${String(r.error)}`);
    count++;
  }
  assert.equal(count, files.length);
});
