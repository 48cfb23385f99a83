/**
 * Images the report embeds: sample grids read back from real (tiny) variants in a local store, and saliency
 * grid PNGs from the store; checked pixel by pixel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { prepareDataset } from '../../core/data/prepare';
import type { Sample } from '../../core/data/sample';
import { openSampleSource } from '../../core/data/sample-source';
import { loadReportAssets, saliencyImage } from '../../core/report/report-assets';
import type { StudyResults } from '../../core/report/results';
import { materializeVariant } from '../../core/variants/materialize';
import { putJson } from '../../store';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';

async function decode(uriOrPng: string | Buffer) {
  const png = typeof uriOrPng === 'string' ? Buffer.from(uriOrPng.split(',')[1]!, 'base64') : uriOrPng;
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function all(it: AsyncIterable<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of it) out.push(s);
  return out;
}

test('the sample grid shows the same val images under every variant, pixel for pixel', async () => {
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(
    store,
    { source: 'synthetic', classes: 3, perClass: { train: 2, val: 3 }, size: 16, seed: 4, genericCount: 0 },
    { tar: false },
  );
  const fg = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: { name: 'only_fg' },
  });
  const results = {
    columns: ['only_fg', 'original'],
    rows: [],
    variants: [
      { id: 'original', label: 'original', manifestKey: ds.manifestKey },
      { id: 'only_fg', label: 'only_fg', manifestKey: fg.manifestKey },
      { id: 'mixed_rand#1', label: 'mixed_rand', manifestKey: null },
    ],
  } as unknown as StudyResults;
  const assets = await loadReportAssets(store, results);
  assert.deepEqual(assets.problems, []);
  // rows in column order; one image per class, the first val image of each class of the first variant
  assert.deepEqual(
    assets.samples!.rows.map((r) => r.variant),
    ['only_fg', 'original'],
  );
  assert.deepEqual(
    assets.samples!.ids.map((i) => i.className),
    ds.classes,
  );
  for (const [r, key] of [
    [0, fg.manifestKey],
    [1, ds.manifestKey],
  ] as const) {
    const val = await all((await openSampleSource(store, key, 'val')).iterate());
    for (const [i, id] of assets.samples!.ids.entries()) {
      const want = val.find((s) => s.id === id.id)!;
      const got = await decode(assets.samples!.rows[r]!.images[i]!);
      assert.equal(got.width, 16);
      assert.deepEqual([...got.data], [...want.rgb], `${id.id} in row ${r}`);
    }
  }
});

test('saliency grid PNGs are embedded as they are; a key that is not a PNG is reported by name', async () => {
  const store = new FsArtifactStore(await tempDir());
  const png = await sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
    .png()
    .toBuffer();
  await store.put('grids/x.png', png);
  const img = await saliencyImage(store, 'grids/x.png');
  assert.deepEqual([img.width, img.height], [2, 1]);
  const got = await decode(img.src);
  assert.deepEqual([...got.data], [255, 0, 0, 0, 0, 255]);
  await putJson(store, 'evals/r/saliency.json', { kind: 'saliency' });
  await assert.rejects(
    saliencyImage(store, 'evals/r/saliency.json'),
    /evals\/r\/saliency\.json is not a PNG/,
  );
});
