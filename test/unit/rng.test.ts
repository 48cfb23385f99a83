import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSeed, Rng } from '../../core/data/rng';

// Streams recorded from the two Rng classes this one replaces (core/data/rng.ts: int(n) in [0, n);
// core/ml/rng.ts: int(lo, hi) inclusive, now intIn): datasets, variants, training draws and checkpointed
// states must not change. next() of seed 0 is mulberry32's published first output.
test('the one Rng draws exactly the streams of the two it replaced', () => {
  const next3 = (seed: number) => {
    const r = new Rng(seed);
    return [r.next(), r.next(), r.next()];
  };
  assert.deepEqual(next3(0), [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
  assert.deepEqual(next3(1), [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  assert.deepEqual(next3(0xffffffff), [0.8964226141106337, 0.189478256739676, 0.7156526781618595]);

  const a = new Rng(7);
  assert.deepEqual(
    Array.from({ length: 12 }, () => a.int(10)),
    [0, 0, 9, 6, 5, 4, 4, 2, 5, 7, 2, 1],
  );
  const b = new Rng(7);
  assert.deepEqual(
    Array.from({ length: 12 }, () => b.intIn(-3, 3)),
    [-3, -3, 3, 1, 0, -1, 0, -2, 0, 2, -2, -2],
  );
  assert.equal(b.state, 503953283);
  // a state read from a checkpoint continues the stream
  const c = new Rng(7);
  for (let i = 0; i < 6; i++) c.next();
  const resumed = new Rng(c.state);
  assert.deepEqual([resumed.next(), resumed.next()], [c.next(), c.next()]);

  const d = Rng.derive('pairing', 0, 'mixed_rand', 'train');
  assert.deepEqual(
    Array.from({ length: 6 }, () => d.int(1000)),
    [645, 819, 326, 929, 401, 272],
  );
  assert.deepEqual([deriveSeed(1, 'augment', 0), deriveSeed(3, 'shuffle', 2)], [334284185, 2853357474]);
  assert.deepEqual(new Rng(42).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), [0, 7, 3, 5, 2, 1, 8, 9, 4, 6]);
  const e = new Rng(5);
  assert.deepEqual([e.normal(), e.normal()], [0.21789461927371653, -0.5038217049793774]);
  assert.equal(new Rng(5).uniform(2, 4), 3.3795498218387365);
  assert.equal(new Rng(9).pick(['a', 'b', 'c', 'd']), 'a');
});
