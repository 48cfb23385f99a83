import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsArtifactStore } from '../../store/fs-store';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/env';

test('bgstudy data synth, variants make, data show work against the configured store', async () => {
  const dir = await tempDir();
  process.env.BGSTUDY_STORE = 'fs';
  process.env.BGSTUDY_STORE_DIR = dir;
  const out = JSON.parse(
    await cli([
      'data',
      'synth',
      '--classes',
      '3',
      '--train',
      '4',
      '--val',
      '2',
      '--size',
      '16',
      '--generic',
      '2',
      '--no-tar',
      '--json',
    ]),
  ) as { manifestKey: string; counts: Record<string, number> };
  assert.deepEqual(out.counts, { train: 12, val: 6, generic: 2 });
  const made = JSON.parse(
    await cli(['variants', 'make', out.manifestKey, 'only_fg', 'bg_blur:sigma=2', '--json']),
  ) as { manifestKey: string; label: string }[];
  assert.deepEqual(
    made.map((m) => m.label),
    ['only_fg', 'bg_blur(sigma=2)'],
  );
  const store = new FsArtifactStore(dir);
  for (const m of made) assert.ok(await store.stat(m.manifestKey));
  assert.equal((await store.list('datasets/')).filter((k) => k.endsWith('.tar')).length, 0);
  assert.match(
    await cli(['data', 'show', out.manifestKey]),
    /train: 12 images in 1 shards; per class 4\/4\/4/,
  );
});
