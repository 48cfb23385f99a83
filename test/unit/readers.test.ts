import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { FsArtifactStore } from '../../store/fs-store';
import { prepareDataset } from '../../core/data/prepare';
import { openSampleSource } from '../../core/data/sample-source';
import { readManifestWithItems } from '../../core/data/manifest-items';
import type { Sample } from '../../core/data/sample';
import { materializeVariant } from '../../core/variants/materialize';
import { fixturePixels, writeMask, writePair } from '../helpers/image-fixtures';
import { tempDir } from '../helpers/env';

async function all(store: FsArtifactStore, key: string, split: 'train' | 'val'): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of (await openSampleSource(store, key, split)).iterate()) out.push(s);
  return out;
}

test('folder: good images are imported; every kind of bad input is skipped with a reason naming the file', async () => {
  const dir = await tempDir();
  const img = path.join(dir, 'images');
  const msk = path.join(dir, 'masks');
  await writePair(`${img}/cat/a.png`, `${msk}/cat/a.png`, 1);
  await writePair(`${img}/cat/b.jpg`, `${msk}/cat/b.png`, 2);
  await writePair(`${img}/dog/c.png`, `${msk}/dog/c.npy`, 3);
  await writePair(`${img}/dog/d.png`, `${msk}/dog/d.png`, 4);
  await writePair(`${img}/bird/e.png`, `${msk}/bird/e.png`, 5); // unknown class
  // corrupt image, truncated JPEG
  await writeFile(`${img}/cat/corrupt.png`, Buffer.from('definitely not a png'));
  await writeMask(`${msk}/cat/corrupt.png`, fixturePixels(20, 20, 0, [2, 2, 9, 9]).mask, 20, 20);
  await writePair(`${img}/cat/trunc.jpg`, `${msk}/cat/trunc.png`, 6);
  const whole = await readFile(`${img}/cat/trunc.jpg`);
  await writeFile(`${img}/cat/trunc.jpg`, whole.subarray(0, Math.floor(whole.length / 2)));
  // wrong-size, empty and all-foreground masks; a missing mask; a non-image file
  await writePair(`${img}/dog/wrongsize.png`, `${msk}/dog/unused.png`, 7);
  await writeMask(`${msk}/dog/wrongsize.png`, new Uint8Array(100).fill(255), 10, 10);
  await writePair(`${img}/dog/empty.png`, `${msk}/dog/empty.png`, 8);
  await writeMask(`${msk}/dog/empty.png`, new Uint8Array(400), 20, 20);
  await writePair(`${img}/dog/full.png`, `${msk}/dog/full.png`, 9);
  await writeMask(`${msk}/dog/full.png`, new Uint8Array(400).fill(255), 20, 20);
  await writePair(`${img}/cat/nomask.png`, `${dir}/elsewhere.png`, 10);
  await writeFile(`${img}/cat/notes.txt`, 'hello');

  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(store, {
    source: 'folder',
    path: img,
    maskPath: msk,
    classes: ['cat', 'dog'],
    valFraction: 0.5,
  });
  assert.deepEqual(ds.classes, ['cat', 'dog']);
  assert.equal((ds.counts.train ?? 0) + (ds.counts.val ?? 0), 4);
  const m = await readManifestWithItems(store, ds.manifestKey);
  const reasons = new Map(m.skipped.map((s) => [path.relative(dir, s.file), s.reason]));
  const expect: [string, RegExp][] = [
    ['images/bird', /unknown class folder "bird"/],
    ['images/cat/corrupt.png', /cannot decode image/],
    ['images/cat/trunc.jpg', /cannot decode image/],
    ['masks/dog/wrongsize.png', /mask is 10x10 but its image wrongsize.png is 20x20/],
    ['masks/dog/empty.png', /no foreground pixels/],
    ['masks/dog/full.png', /no background pixels/],
    ['images/cat/nomask.png', /no mask \(looked for .*masks\/cat\/nomask\.png\|\.npy\)/],
    ['images/cat/notes.txt', /not an image file \(extension "\.txt"\)/],
  ];
  for (const [file, re] of expect) assert.match(reasons.get(file) ?? `(not skipped: ${file})`, re);
  assert.equal(m.skipped.length, expect.length, JSON.stringify(m.skipped, null, 1));
  assert.equal(ds.skippedCount, expect.length);
  // pixels survive exactly (PNG: lossless), mask from PNG and from .npy
  const samples = [
    ...(await all(store, ds.manifestKey, 'train')),
    ...(await all(store, ds.manifestKey, 'val')),
  ];
  const a = samples.find((s) => s.id.endsWith('cat/a'))!;
  const want = fixturePixels(20, 20, 1, [4, 4, 13, 14]);
  assert.deepEqual(Buffer.from(a.rgb), want.rgb);
  assert.deepEqual(a.mask, want.mask);
  const c = samples.find((s) => s.id.endsWith('dog/c'))!;
  assert.deepEqual(c.mask, fixturePixels(20, 20, 3, [6, 4, 15, 14]).mask);
  assert.equal(c.label, 1);
});

test('in9: backgrounds_challenge layout with .npy masks, resized; variants run on it', async () => {
  const root = await tempDir();
  for (const split of ['train', 'val']) {
    for (const [k, cls] of ['00_dog', '01_bird', '02_fish'].entries()) {
      for (let i = 0; i < 2; i++) {
        const stem = `n0000000${k}_${i}`;
        await writePair(
          `${root}/original/${split}/${cls}/${stem}.JPEG`,
          `${root}/fg_mask/${split}/${cls}/${stem}.npy`,
          k * 2 + i,
          24,
          24,
        );
      }
    }
  }
  await mkdir(`${root}/original/val/not_a_class`, { recursive: true });
  const store = new FsArtifactStore(await tempDir());
  await writePair(`${root}/generic/atm-1.jpg`, `${root}/unused/1.png`, 20, 30, 20);
  await writePair(`${root}/generic/atm-2.png`, `${root}/unused/2.png`, 21, 30, 20);
  const ds = await prepareDataset(store, {
    source: 'in9',
    path: root,
    size: 16,
    genericPath: `${root}/generic`,
  });
  assert.deepEqual(ds.classes, ['dog', 'bird', 'fish']);
  assert.deepEqual(ds.counts, { train: 6, val: 6, generic: 2 });
  assert.equal(ds.skipped.length, 1);
  assert.match(ds.skipped[0]!.reason, /unknown class folder "not_a_class"/);
  const val = await all(store, ds.manifestKey, 'val');
  assert.deepEqual(
    val.map((s) => s.label),
    [0, 1, 2, 0, 1, 2],
  );
  assert.equal(val[0]!.id, 'val/00_dog/n00000000_0');
  assert.equal(val[0]!.width, 16);
  // the mask was resized with the image (24 -> 16, cover): box [3,4,12,14) scales to about [2,2.7,8,9.3)
  const m = val[0]!.mask!;
  assert.equal(m[5 * 16 + 5], 255);
  assert.equal(m[0], 0);
  assert.equal(m[15 * 16 + 15], 0);
  // the image is the decoded JPEG resized (cover) by sharp
  const full = await sharp(`${root}/original/val/00_dog/n00000000_0.JPEG`).removeAlpha().raw().toBuffer();
  const ref = await sharp(full, { raw: { width: 24, height: 24, channels: 3 } })
    .resize(16, 16, { fit: 'cover' })
    .raw()
    .toBuffer();
  assert.deepEqual(Buffer.from(val[0]!.rgb), ref);
  const g = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: 'generic_bg',
    seed: 1,
  });
  const gm = await readManifestWithItems(store, g.manifestKey);
  assert.ok(
    gm.splits.train!.items.every(
      (it) => it.bgFrom === 'generic/atm-1.jpg' || it.bgFrom === 'generic/atm-2.png',
    ),
  );
  const v = await materializeVariant(store, { datasetManifestKey: ds.manifestKey, variant: 'only_fg' });
  const fg = await all(store, v.manifestKey, 'val');
  for (let p = 0; p < 256; p++)
    if (!m[p]) assert.deepEqual([...fg[0]!.rgb.subarray(p * 3, p * 3 + 3)], [0, 0, 0]);
});

test('pixel-imagenet: masks select images of the chosen wnids; a mask without its image is reported', async () => {
  const root = await tempDir();
  const wnids = ['n01440764', 'n02102040', 'n02979186'];
  for (const [k, w] of wnids.entries()) {
    for (let i = 1; i <= 5; i++)
      await writePair(
        `${root}/imagenet/${w}/${w}_${i}.JPEG`,
        `${root}/masks/${w}/${w}_${i}.png`,
        k * 5 + i,
        32,
        24,
      );
  }
  await writeMask(
    `${root}/masks/n01440764/n01440764_99.png`,
    fixturePixels(32, 24, 0, [1, 1, 5, 5]).mask,
    32,
    24,
  );
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(store, {
    source: 'pixel-imagenet',
    imagesPath: `${root}/imagenet`,
    masksPath: `${root}/masks`,
    wnids: wnids.slice(0, 2),
    classNames: ['tench', 'springer'],
    valFraction: 0.4,
    size: 16,
  });
  assert.deepEqual(ds.classes, ['tench', 'springer']);
  assert.deepEqual(ds.counts, { train: 6, val: 4 });
  assert.equal(ds.skippedCount, 1);
  assert.match(ds.skipped[0]!.file, /n01440764_99\.png$/);
  assert.match(ds.skipped[0]!.reason, /no ImageNet image/);
  const train = await all(store, ds.manifestKey, 'train');
  assert.ok(train.every((s) => s.width === 16 && s.height === 16 && !s.id.includes('n02979186')));
});
