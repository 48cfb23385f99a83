import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MAX_PIXELS } from '../../core/data/decode';
import { encodeRawShard, MAX_SIDE, readRawShard } from '../../core/data/raw-shard';
import { readManifestWithItems } from '../../core/data/manifest-items';
import { prepareDataset } from '../../core/data/prepare';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';
import { peakRssGrowth, writeBombPng } from '../helpers/hostile-fixtures';
import { writePair } from '../helpers/image-fixtures';

/** A folder dataset of two classes with 3 good pairs each; returns its image and mask roots. */
async function goodFolder(): Promise<{ images: string; masks: string }> {
  const root = await tempDir();
  const images = path.join(root, 'images');
  const masks = path.join(root, 'masks');
  for (const [k, cls] of ['cat', 'dog'].entries())
    for (let i = 0; i < 3; i++)
      await writePair(`${images}/${cls}/g${i}.png`, `${masks}/${cls}/g${i}.png`, k * 3 + i);
  return { images, masks };
}

test('image bombs are refused by name from their header, never decoded; the rest of the dataset is kept', async () => {
  const { images, masks } = await goodFolder();
  const sentinelFree = await tempDir();
  // 10,000 x 10,000 (100 MP, 300 MB once decoded to RGB) in a file of ~100 KB: under sharp's own default limit,
  // so only our limit stands between it and the decoder
  const bombSize = await writeBombPng(`${images}/cat/bomb.png`, 10_000, 10_000);
  assert.ok(bombSize < 1_000_000, `the bomb is small on disk (${bombSize} bytes)`);
  await writePair(`${images}/dog/ok.png`, `${masks}/dog/ok.png`, 9);
  // 30,000 x 30,000 claimed by a hand-written header
  await writeBombPng(`${images}/dog/huge.png`, 30_000, 30_000, { headerOnly: true });
  // a good image whose mask is the bomb
  await writePair(`${images}/dog/maskbomb.png`, `${masks}/dog/unused.png`, 10);
  await writeBombPng(`${masks}/dog/maskbomb.png`, 10_000, 10_000);
  await writeBombPng(`${masks}/cat/bomb.png`, 20, 20);
  await writeBombPng(`${masks}/dog/huge.png`, 20, 20);

  // vector content under a raster name: never handed to the SVG renderer
  await writeFile(
    `${images}/cat/vector.png`,
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="9" height="9"/></svg>',
  );
  await writePair(`${sentinelFree}/unused.png`, `${masks}/cat/vector.png`, 12);
  const store = new FsArtifactStore(await tempDir());
  const { result: ds, growth } = await peakRssGrowth(() =>
    prepareDataset(
      store,
      { source: 'folder', path: images, maskPath: masks, valFraction: 0 },
      { tar: false },
    ),
  );
  assert.deepEqual(ds.counts, { train: 7 }, 'the good images are all there');
  const m = await readManifestWithItems(store, ds.manifestKey);
  const reasons = new Map(m.skipped.map((s) => [path.relative(path.dirname(images), s.file), s.reason]));
  assert.match(
    reasons.get('images/cat/bomb.png') ?? '',
    /image is 10000x10000 = 100000000 pixels, over the limit of 40000000 \(maxPixels/,
  );
  assert.match(
    reasons.get('images/dog/huge.png') ?? '',
    /image is 30000x30000 = 900000000 pixels, over the limit/,
  );
  assert.match(
    reasons.get('masks/dog/maskbomb.png') ?? '',
    /mask is 10000x10000 = 100000000 pixels, over the limit/,
  );
  assert.equal(m.splits.train!.items.filter((i) => /bomb|huge/.test(i.id)).length, 0);
  // decoding the bombs would take >= 300 MB; refusing them from the header takes next to nothing
  assert.ok(growth < 200 * 1024 * 1024, `RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
  console.log(`bombs refused: peak RSS growth ${(growth / 2 ** 20).toFixed(0)} MiB`);
  assert.equal(DEFAULT_MAX_PIXELS, 40_000_000);
});

test('maxPixels in the dataset spec sets the limit (and .npy masks obey it too)', async () => {
  const { images, masks } = await goodFolder();
  const store = new FsArtifactStore(await tempDir());
  const spec = { source: 'folder' as const, path: images, maskPath: masks, valFraction: 0 };
  const strict = await prepareDataset(store, { ...spec, maxPixels: 399 }, { tar: false });
  assert.equal(strict.counts.train ?? 0, 0);
  assert.equal(strict.skippedCount, 6);
  assert.match(strict.skipped[0]!.reason, /image is 20x20 = 400 pixels, over the limit of 399/);
  const loose = await prepareDataset(store, { ...spec, maxPixels: 400 }, { tar: false });
  assert.deepEqual(loose.counts, { train: 6 });

  // a file bigger than any image within the limit could be is refused before it is read
  const { truncate } = await import('node:fs/promises');
  await writePair(`${images}/cat/huge-file.png`, `${masks}/cat/huge-file.png`, 11);
  await truncate(`${images}/cat/huge-file.png`, 400 * 8 + 2 ** 20 + 1);
  const sized = await prepareDataset(store, { ...spec, maxPixels: 400 }, { tar: false });
  assert.match(
    sized.skipped.find((s) => s.file.endsWith('huge-file.png'))?.reason ?? 'not reported',
    /image file is 1051777 bytes, more than 1051776 \(8 bytes per pixel of maxPixels\)/,
  );

  const npyRoot = await tempDir();
  for (const [k, cls] of ['a', 'b'].entries())
    await writePair(`${npyRoot}/i/${cls}/x.png`, `${npyRoot}/m/${cls}/x.npy`, k, 30, 20);
  const npy = await prepareDataset(
    store,
    { source: 'folder', path: `${npyRoot}/i`, maskPath: `${npyRoot}/m`, valFraction: 0, maxPixels: 600 },
    { tar: false },
  );
  assert.equal(npy.skippedCount, 0);
  const { maskToNpy, npyToMask } = await import('../../core/data/npy');
  const npyFile = maskToNpy(new Uint8Array(600), 30, 20);
  assert.equal(npyToMask(npyFile, 'x.npy', 600).width, 30);
  assert.throws(() => npyToMask(npyFile, 'x.npy', 599), /mask is 30x20 = 600 pixels, over the limit of 599/);
});

test('a 1 x 100000 strip is skipped by name at import (a side over the shard limit), so it cannot poison the dataset', async () => {
  const { images, masks } = await goodFolder();
  // 100,000 pixels (well under maxPixels), but one side is over what a raw shard holds
  await writeBombPng(`${images}/cat/strip.png`, 1, 100_000);
  await writeBombPng(`${masks}/cat/strip.png`, 1, 100_000);
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(
    store,
    { source: 'folder', path: images, maskPath: masks, valFraction: 0 },
    { tar: false },
  );
  assert.deepEqual(ds.counts, { train: 6 });
  const m = await readManifestWithItems(store, ds.manifestKey);
  const strip = m.skipped.find((s) => s.file === `${images}/cat/strip.png`);
  assert.match(
    strip?.reason ?? 'not reported',
    /1x100000: a side over 65535 pixels cannot be stored in a shard/,
  );
  // every shard reads back (the reader holds to the same limit the writer now does)
  let read = 0;
  for (const shard of m.splits.train!.shards)
    for await (const s of readRawShard(await store.getStream(shard.raw!), shard.raw))
      read += s.width > 0 ? 1 : 0;
  assert.equal(read, 6);
  // and the writer refuses what the reader would
  const tall = { id: 'tall', label: 0, width: 1, height: MAX_SIDE + 1, rgb: new Uint8Array(MAX_SIDE + 1) };
  await assert.rejects(
    encodeRawShard([{ ...tall, rgb: new Uint8Array(3 * (MAX_SIDE + 1)) }]),
    /each side must be 1\.\.65535/,
  );
});
