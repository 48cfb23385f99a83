import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readManifestWithItems } from '../../core/data/manifest-items';
import { sampleHash } from '../../core/data/mask-stats';
import type { Sample } from '../../core/data/sample';
import { openSampleSource } from '../../core/data/sample-source';
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
  // a variant keeps no pixels in the store; export writes them into a folder any reader opens
  assert.deepEqual(
    (await store.list('variants/')).filter((k) => !k.endsWith('.json') && !k.endsWith('.json.gz')),
    [],
  );
  assert.match(
    await cli(['data', 'show', made[1]!.manifestKey]),
    /pixels: computed when read, from datasets\//,
  );
  const outDir = await tempDir();
  assert.match(
    await cli(['data', 'export', made[1]!.manifestKey, '--out', outDir, '--split', 'val']),
    /^6 images in 3 files -> /,
  );
  const exported = await collect(
    (await openSampleSource(new FsArtifactStore(outDir), 'manifest.json', 'val')).iterate(),
  );
  const read = await collect((await openSampleSource(store, made[1]!.manifestKey, 'val')).iterate());
  assert.equal(exported.length, 6);
  const blurred = (await readManifestWithItems(store, made[1]!.manifestKey)).splits.val!.items;
  exported.forEach((s, i) => {
    assert.equal(s.id, read[i]!.id);
    assert.ok(Buffer.from(s.rgb).equals(Buffer.from(read[i]!.rgb)));
    assert.equal(sampleHash(s), blurred[i]!.hash, 'the pixels the variant stage hashed');
  });
  const original = await collect((await openSampleSource(store, out.manifestKey, 'val')).iterate());
  assert.ok(
    exported.some((s, i) => !Buffer.from(s.rgb).equals(Buffer.from(original[i]!.rgb))),
    'blurred',
  );
});

async function collect(it: AsyncIterable<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of it) out.push(s);
  return out;
}
