import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createStudySchedule, deleteStudySchedule, listStudySchedules } from '../../client/schedules';
import { readSpecFile } from '../../cli/spec-file';
import { ensureBinary, TEMPORAL } from '../../infra/binaries';
import { testServices, uniqueId } from '../helpers/env';

const run = promisify(execFile);
let connection: Connection;
let client: Client;

before(async () => {
  connection = await Connection.connect({ address: testServices().temporalAddress });
  client = new Client({ connection });
});
after(async () => connection?.close());

test('a nightly schedule created by bgstudy shows in `temporal schedule list`, with overlap skip', async () => {
  const spec = (await readSpecFile({ preset: 'quick' })) as Record<string, unknown>;
  const scheduleId = uniqueId('bgstudy-nightly');
  await createStudySchedule(client, spec, { cron: '0 2 * * *', scheduleId, taskQueue: uniqueId('sched') });
  try {
    const temporal = await ensureBinary(TEMPORAL, { allowInstall: false });
    const address = testServices().temporalAddress;
    const { stdout } = await run(temporal, ['schedule', 'list', '--address', address, '-o', 'json']);
    assert.ok(stdout.includes(scheduleId), `temporal schedule list shows ${scheduleId}`);
    const described = await client.schedule.getHandle(scheduleId).describe();
    assert.equal(described.policies.overlap, 'SKIP');
    assert.equal(described.action.type, 'startWorkflow');
    assert.equal(described.action.type === 'startWorkflow' && described.action.workflowType, 'StudyWorkflow');
    const next = described.info.nextActionTimes[0];
    assert.ok(
      next && next.getUTCHours() === 2 && next.getUTCMinutes() === 0,
      `next run at 02:00 UTC, got ${next?.toISOString()}`,
    );
    assert.ok((await listStudySchedules(client)).some((s) => s.scheduleId === scheduleId));
  } finally {
    assert.equal(await deleteStudySchedule(client, scheduleId), true);
  }
  assert.equal(
    await deleteStudySchedule(client, scheduleId),
    false,
    'deleting twice reports the schedule as gone',
  );
});
