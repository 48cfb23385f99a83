import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { S3ArtifactStore } from '../../store/s3-store';
import { prepareDataset } from '../../core/data/prepare';
import { openSampleSource } from '../../core/data/sample-source';
import { readManifestWithItems } from '../../core/data/manifest-items';
import type { Sample } from '../../core/data/sample';
import { materializeVariant } from '../../core/variants/materialize';
import { testServices, uniqueId } from '../helpers/env';

const { s3 } = testServices();
const store = new S3ArtifactStore({ ...s3, prefix: uniqueId('datasets') });
after(() => store.close());

test('a synthetic dataset and a variant go through the real S3 store and read back pixel for pixel', async () => {
  const source = {
    source: 'synthetic',
    classes: 3,
    perClass: { train: 40, val: 10 },
    size: 16,
    seed: 2,
    genericCount: 0,
  } as const;
  const ds = await prepareDataset(store, source, { shardSize: 50 });
  assert.deepEqual(ds.counts, { train: 120, val: 30 });
  const keys = await store.list(`datasets/${ds.datasetHash}/`);
  assert.ok(keys.includes(ds.manifestKey));
  assert.equal(keys.filter((k) => k.endsWith('.bgraw')).length, 4);
  assert.equal(keys.filter((k) => k.endsWith('.tar')).length, 0, 'PNG tar shards only when asked for');

  const v = await materializeVariant(store, { datasetManifestKey: ds.manifestKey, variant: 'only_bg_b' });
  const m = await readManifestWithItems(store, v.manifestKey);
  const original = await openSampleSource(store, ds.manifestKey, 'val');
  const variant = await openSampleSource(store, v.manifestKey, 'val');
  assert.equal(variant.count(), 30);
  const origSamples: Sample[] = [];
  for await (const s of original.iterate()) origSamples.push(s);
  let i = 0;
  for await (const s of variant.iterate()) {
    const o = origSamples[i]!;
    const [x0, y0, x1, y1] = m.splits.val!.items[i]!.bbox;
    assert.equal(s.id, o.id);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const p = (y * 16 + x) * 3;
        const inBox = x >= x0 && x < x1 && y >= y0 && y < y1;
        for (let k = 0; k < 3; k++) assert.equal(s.rgb[p + k], inBox ? 0 : o.rgb[p + k]);
      }
    }
    i++;
  }
  assert.equal(i, 30);
  assert.equal((await prepareDataset(store, source, { shardSize: 50 })).reused, true);
  assert.equal(
    (await materializeVariant(store, { datasetManifestKey: ds.manifestKey, variant: 'only_bg_b' })).reused,
    true,
  );
});
