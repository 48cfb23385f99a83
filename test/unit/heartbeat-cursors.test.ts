import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { resumeCursor, shardCursorSchema } from '../../activities/cursors';
import { shardHeartbeat } from '../../activities/progress-heartbeat';
import type { ShardProgress } from '../../core/data/shard-writer';
import { challengeCursorFor, emptyChallengeCursor } from '../../core/ml/challenge';

/** A cursor of a 2-class challenge two foregrounds in, as a heartbeat brings it back (plain JSON). */
const midway = {
  classIdx: 0,
  fgIdx: 2,
  vulnerable: 1,
  computed: 2,
  cleanCorrect: 2,
  perClassTaken: [2, 0],
  perClassComputed: [2, 0],
  perClassVulnerable: [1, 0],
  skipped: ['x.png'],
};

test('a challenge cursor of the same class count is resumed as sent', () => {
  const mismatches: string[] = [];
  const got = resumeCursor(challengeCursorFor(2), JSON.parse(JSON.stringify(midway)), (m) =>
    mismatches.push(m),
  );
  assert.deepEqual(got, midway);
  assert.deepEqual(mismatches, []);
  assert.deepEqual(resumeCursor(challengeCursorFor(3), emptyChallengeCursor(3)), emptyChallengeCursor(3));
});

test('no previous heartbeat: nothing to resume, nothing reported', () => {
  const mismatches: string[] = [];
  for (const none of [undefined, null])
    assert.equal(
      resumeCursor(challengeCursorFor(2), none, (m) => mismatches.push(m)),
      undefined,
    );
  assert.deepEqual(mismatches, []);
});

test('a heartbeat that is not this challenge cursor starts over, naming what does not fit', () => {
  const cases: [unknown, RegExp][] = [
    // another activity's progress ({done, total} images) or a training heartbeat
    [{ done: 3, total: 10 }, /fgIdx/],
    [{ epoch: 0, batch: 4, loss: 1.2 }, /classIdx/],
    // a cursor of a model with another class count: resuming would index past the per-class arrays
    [{ ...midway, perClassTaken: [2, 0, 0] }, /perClassTaken: 3 classes, the model has 2/],
    // counts that cannot be (an older code version, a corrupted payload)
    [{ ...midway, fgIdx: -1 }, /fgIdx/],
    [{ ...midway, computed: 'two' }, /computed/],
    ['midway', /\(root\)/],
  ];
  for (const [details, named] of cases) {
    const mismatches: string[] = [];
    assert.equal(
      resumeCursor(challengeCursorFor(2), details, (m) => mismatches.push(m)),
      undefined,
      JSON.stringify(details),
    );
    assert.equal(mismatches.length, 1);
    assert.match(mismatches[0]!, named);
  }
});

test('shard cursors: a well-formed one is logged as the resume point, anything else is warned about', async () => {
  assert.deepEqual(shardCursorSchema.parse({ split: 'train', shardsDone: 3, shards: 8 }), {
    split: 'train',
    shardsDone: 3,
    shards: 8,
  });
  const logsFor = async (heartbeatDetails: unknown) => {
    const lines: string[] = [];
    const logger: Logger = {
      log: (level: LogLevel, message: string, _meta?: LogMetadata) => lines.push(`${level} ${message}`),
      trace: () => {},
      debug: () => {},
      info: (m: string) => lines.push(`INFO ${m}`),
      warn: (m: string) => lines.push(`WARN ${m}`),
      error: (m: string) => lines.push(`ERROR ${m}`),
    };
    const env = new MockActivityEnvironment({ heartbeatDetails }, { logger });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () =>
      shardHeartbeat('prepareDataset')({
        split: 'val',
        shardsDone: 1,
        shards: 2,
        unitsDone: 0,
        units: 0,
      } as ShardProgress),
    );
    assert.deepEqual(beats, [{ split: 'val', shardsDone: 1, shards: 2 }], 'the new cursor is heartbeated');
    return lines.filter((l) => l.includes('prepareDataset'));
  };
  const resumed = await logsFor({ split: 'train', shardsDone: 3, shards: 8 });
  assert.equal(resumed.length, 1);
  assert.match(resumed[0]!, /^INFO prepareDataset: resuming after train shard 3\/8$/);
  // A string has a `split` method: cast, it used to be logged as a resume point.
  for (const bad of ['train', { split: 'train', shardsDone: '3' }]) {
    const warned = await logsFor(bad);
    assert.equal(warned.length, 1, JSON.stringify(bad));
    assert.match(warned[0]!, /^WARN prepareDataset: previous heartbeat is not a shard cursor/);
  }
  assert.deepEqual(await logsFor(undefined), []);
});
