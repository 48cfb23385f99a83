import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { keepingAlive } from '../../activities/progress-heartbeat';

test('keepingAlive repeats the last progress while slow work runs, and stops when it ends', async () => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const result = await env.run(() =>
    keepingAlive(async (beat) => {
      beat({ shardsDone: 1 });
      await sleep(260); // one slow shard: no progress of its own for a while
      beat({ shardsDone: 2 });
      await sleep(130);
      return 'done';
    }, 50),
  );
  assert.equal(result, 'done');
  const repeatsOf1 = beats.filter((b) => JSON.stringify(b) === '{"shardsDone":1}').length;
  const repeatsOf2 = beats.filter((b) => JSON.stringify(b) === '{"shardsDone":2}').length;
  assert.ok(repeatsOf1 >= 4, `the first cursor was repeated while the slow shard ran (${repeatsOf1} beats)`);
  assert.ok(repeatsOf2 >= 2, `then the second (${repeatsOf2} beats)`);
  assert.deepEqual(beats.at(-1), { shardsDone: 2 }, 'repeats always carry the latest cursor');
  const after = beats.length;
  await sleep(150);
  assert.equal(beats.length, after, 'no heartbeat after the work ended');
});
