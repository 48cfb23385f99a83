/**
 * Images the report embeds: sample grids read back from real (tiny) variants in a local store, and saliency
 * grids drawn from maps; checked pixel by pixel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { prepareDataset } from '../../core/data/prepare';
import type { Sample } from '../../core/data/sample';
import { openSampleSource } from '../../core/data/sample-source';
import { loadReportAssets, saliencyDataUri } from '../../core/report/report-assets';
import type { StudyResults } from '../../core/report/results';
import { hot, saliencyGridPng } from '../../core/report/saliency-grid';
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

test('saliency grids: image row over a hot-coloured map row, integer upscaling; PNG keys pass through', async () => {
  const map = [0, 64, 128, 255];
  const sample: Sample = {
    id: 'a',
    label: 0,
    width: 2,
    height: 2,
    rgb: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
  };
  const maps = {
    kind: 'saliency' as const,
    size: 2,
    items: [
      { id: 'a', label: 0, predicted: 0, map },
      { id: 'b', label: 1, predicted: 1, map },
    ],
  };
  const png = await saliencyGridPng(maps, new Map([['a', sample]]), { minTile: 6, gap: 1 });
  const g = await decode(png);
  // tile = 2 px x 3 = 6; two columns with a 1 px gap; two rows
  assert.deepEqual([g.width, g.height], [13, 13]);
  const px = (x: number, y: number) => [...g.data.subarray(3 * (y * g.width + x), 3 * (y * g.width + x) + 3)];
  assert.deepEqual(px(0, 0), [1, 2, 3]);
  assert.deepEqual(px(5, 5), [10, 11, 12]);
  assert.deepEqual(px(3, 0), [4, 5, 6]);
  assert.deepEqual(px(0, 7), hot(0));
  assert.deepEqual(px(5, 12), hot(255));
  assert.deepEqual(px(3, 7), hot(64));
  assert.deepEqual(px(7, 0), [255, 255, 255], 'no sample for b: blank tile');
  assert.deepEqual(px(7 + 5, 12), hot(255));
  assert.deepEqual(hot(0), [0, 0, 0]);
  assert.deepEqual(hot(255), [255, 255, 255]);

  const store = new FsArtifactStore(await tempDir());
  await store.put('grids/x.png', png);
  assert.equal(
    await saliencyDataUri(store, 'grids/x.png'),
    `data:image/png;base64,${png.toString('base64')}`,
  );
  await putJson(store, 'evals/r/saliency.json', { ...maps, dataKey: 'missing/manifest.json' });
  const drawn = await decode(await saliencyDataUri(store, 'evals/r/saliency.json'));
  assert.deepEqual([drawn.width, drawn.height], [2 * 64 + 2, 2 * 64 + 2]);
  await putJson(store, 'evals/r/other.json', { kind: 'evaluation' });
  await assert.rejects(saliencyDataUri(store, 'evals/r/other.json'), /is JSON but not a saliency result/);
});
