import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { GrabCutJob } from '../../core/masks/grabcut';
import { GrabCutPool } from '../../core/masks/grabcut-pool';
import { EXIT_WIDTH, THROW_WIDTH } from '../helpers/crashing-grabcut-worker';
import { drawnObjects } from '../helpers/mask-fixtures';

describe('a GrabCut worker thread that dies', () => {
  const pools: GrabCutPool[] = [];
  after(() => Promise.all(pools.map((p) => p.close())));

  test('fails only its own job; the thread is replaced and the rest of the batch completes', async () => {
    const pool = new GrabCutPool(2, {
      workerFile: path.join(__dirname, '../helpers/crashing-grabcut-worker.ts'),
    });
    pools.push(pool);
    const good = drawnObjects(6, 24, 2).map((o): GrabCutJob => ({
      width: o.size,
      height: o.size,
      rgb: o.rgb,
      boxes: [o.box],
      params: { iterations: 2, margin: 0 },
    }));
    const poison = (width: number): GrabCutJob => ({
      width,
      height: width,
      rgb: new Uint8Array(width * width * 3),
      boxes: [[1, 1, width - 1, width - 1]],
      params: { iterations: 2, margin: 0 },
    });
    // both threads die (one exits, one throws) with jobs still queued behind them
    const jobs = [good[0]!, poison(EXIT_WIDTH), good[1]!, poison(THROW_WIDTH), good[2]!, good[3]!, good[4]!];
    const out = await pool.run(jobs);
    assert.match(out[1]!.error ?? '', /exited \(code 3\) while on this image; thread replaced/);
    assert.match(out[3]!.error ?? '', /failed on this image \(injected fault in the GrabCut worker\)/);
    const local = await new GrabCutPool(1).run(jobs);
    for (const i of [0, 2, 4, 5, 6]) {
      assert.equal(out[i]?.error, undefined, `job ${i}: ${out[i]?.error}`);
      assert.deepEqual(out[i]!.mask, local[i]!.mask);
    }
    assert.equal(pool.replaced, 2);
    // the pool stays usable
    const again = await pool.run([good[5]!]);
    assert.equal(again[0]!.error, undefined);
    assert.ok(again[0]!.mask.some((v) => v === 255));
  });
});
