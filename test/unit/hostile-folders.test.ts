import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { readManifestWithItems } from '../../core/data/manifest-items';
import { prepareDataset } from '../../core/data/prepare';
import { nameProblem } from '../../core/data/safe-names';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';
import { writePair } from '../helpers/image-fixtures';

test('folder sources: symbolic links out of the dataset are not followed; links inside it are', async () => {
  const work = await tempDir();
  const img = path.join(work, 'data', 'images');
  const msk = path.join(work, 'data', 'masks');
  const secret = path.join(work, 'secret'); // a valid image pair that is not part of the dataset
  await writePair(`${secret}/x.png`, `${secret}/x-mask.png`, 7);
  await writePair(`${secret}/cls/y.png`, `${secret}/cls-mask/y.png`, 8);
  for (const cls of ['cat', 'dog'])
    for (let i = 0; i < 2; i++) await writePair(`${img}/${cls}/g${i}.png`, `${msk}/${cls}/g${i}.png`, i);
  await symlink(`${secret}/x.png`, `${img}/cat/out.png`); // image link out
  await writePair(`${img}/cat/maskout.png`, `${work}/unused.png`, 3);
  await symlink(`${secret}/x-mask.png`, `${msk}/cat/maskout.png`); // mask link out
  await symlink(`../cat/g0.png`, `${img}/dog/twin.png`); // inside: followed
  await symlink(`../cat/g0.png`, `${msk}/dog/twin.png`);
  await symlink(`${secret}/cls`, `${img}/bird`); // class folder link out
  await mkdir(`${msk}/bird`, { recursive: true });
  await symlink(`${secret}/cls-mask/y.png`, `${msk}/bird/y.png`);
  await symlink(`${work}/nothing.png`, `${img}/dog/dangling.png`);

  const store = new FsArtifactStore(path.join(work, 'store'));
  const ds = await prepareDataset(
    store,
    { source: 'folder', path: img, maskPath: msk, valFraction: 0 },
    { tar: false },
  );
  const m = await readManifestWithItems(store, ds.manifestKey);
  assert.deepEqual(m.classes, ['cat', 'dog'], 'a class folder linked from outside is no class');
  const ids = m.splits.train!.items.map((i) => i.id).sort();
  assert.deepEqual(ids, ['train/cat/g0', 'train/cat/g1', 'train/dog/g0', 'train/dog/g1', 'train/dog/twin']);
  const reasons = new Map(m.skipped.map((s) => [path.relative(work, s.file), s.reason]));
  assert.match(
    reasons.get('data/images/cat/out.png') ?? '',
    /pointing outside the dataset folder .* \(to .*secret\/x.png\), not followed/,
  );
  assert.match(reasons.get('data/masks/cat/maskout.png') ?? '', /pointing outside the dataset folder/);
  assert.match(reasons.get('data/images/bird') ?? '', /pointing outside the dataset folder/);
  assert.match(reasons.get('data/images/dog/dangling.png') ?? '', /dangling/);
});

test('dataset names: control characters, separators, Unicode twins and duplicate stems are refused by name', async () => {
  const work = await tempDir();
  const img = path.join(work, 'images');
  const msk = path.join(work, 'masks');
  const nfc = 'caf\u00e9';
  const nfd = 'cafe\u0301';
  await writePair(`${img}/${nfc}/a.png`, `${msk}/${nfc}/a.png`, 1);
  await writePair(`${img}/${nfd}/b.png`, `${msk}/${nfd}/b.png`, 2); // a twin class folder
  await writePair(`${img}/dog/c.png`, `${msk}/dog/c.png`, 3);
  await writePair(`${img}/dog/c.jpg`, `${msk}/dog/c.png`, 4); // same stem: same item id
  await writePair(`${img}/dog/new\nline.png`, `${msk}/dog/new\nline.png`, 5);
  await writePair(`${img}/evil\u0007bell/d.png`, `${msk}/evil\u0007bell/d.png`, 6);

  const store = new FsArtifactStore(path.join(work, 'store'));
  // the spec may name the class in either normalization
  const ds = await prepareDataset(
    store,
    { source: 'folder', path: img, maskPath: msk, valFraction: 0, classes: [nfd, 'dog'] },
    { tar: false },
  );
  const m = await readManifestWithItems(store, ds.manifestKey);
  assert.deepEqual(m.classes, [nfc, 'dog']);
  assert.deepEqual(m.splits.train!.items.map((i) => i.id).sort(), [`train/${nfc}/b`, 'train/dog/c']);
  const reasons = new Map(m.skipped.map((s) => [path.relative(work, s.file), s.reason]));
  // which of the twins comes first depends on the byte order of the names: NFD 'e' + accent sorts first
  assert.match(reasons.get(`images/${nfc}`) ?? '', /same name as "cafe\u0301" after Unicode normalization/);
  assert.match(reasons.get('images/dog/c.png') ?? '', /same name stem as c.jpg/);
  assert.match(reasons.get('images/dog/new\\x0aline.png') ?? '', /control characters/);
  assert.match(reasons.get('images/evil\\x07bell') ?? '', /control characters/);
  assert.ok(
    !m.skipped.some((s) => [...s.file].some((c) => c.charCodeAt(0) < 0x20)),
    'no raw control characters reach the manifest',
  );

  assert.equal(nameProblem('../../reports'), 'name contains a path separator');
  assert.equal(nameProblem('a\\b'), 'name contains a path separator');
  assert.equal(nameProblem('..'), '".." is not a name');
  assert.equal(nameProblem('nul\u0000'), 'name contains control characters');
  assert.equal(nameProblem('\u00e9'.repeat(128)), 'name is longer than 255 bytes');
  assert.equal(nameProblem('dog'), undefined);
});

test(
  'a FIFO named like an image (x.JPEG) is refused by name, not read: the import does not hang',
  { timeout: 60_000 },
  async () => {
    const work = await tempDir();
    const img = path.join(work, 'images');
    const msk = path.join(work, 'masks');
    const generic = path.join(work, 'generic');
    for (const cls of ['cat', 'dog'])
      for (let i = 0; i < 2; i++) await writePair(`${img}/${cls}/g${i}.png`, `${msk}/${cls}/g${i}.png`, i);
    await writePair(`${generic}/bg.png`, `${work}/unused.png`, 9);
    await writePair(`${work}/unused-x.png`, `${msk}/cat/x.png`, 5);
    execFileSync('mkfifo', [`${img}/cat/x.JPEG`, `${generic}/pipe.png`]);
    const store = new FsArtifactStore(path.join(work, 'store'));
    const ds = await prepareDataset(
      store,
      { source: 'folder', path: img, maskPath: msk, valFraction: 0, genericPath: generic },
      { tar: false },
    );
    const m = await readManifestWithItems(store, ds.manifestKey);
    assert.equal(m.splits.train!.items.length, 4);
    const reasons = new Map(m.skipped.map((s) => [path.relative(work, s.file), s.reason]));
    assert.match(reasons.get('images/cat/x.JPEG') ?? 'not reported', /not a regular file \(a FIFO\)/);
    assert.match(reasons.get('generic/pipe.png') ?? 'not reported', /not a regular file \(a FIFO\)/);
  },
);

test('item ids are NFC like class folders: an NFD file stem gets the id its NFC spelling would', async () => {
  const work = await tempDir();
  const nfd = 'cafe\u0301';
  const nfc = 'caf\u00e9';
  // folder source
  const img = path.join(work, 'images');
  const msk = path.join(work, 'masks');
  await writePair(`${img}/dog/${nfd}.png`, `${msk}/dog/${nfd}.png`, 1);
  await writePair(`${img}/cat/plain.png`, `${msk}/cat/plain.png`, 2);
  const store = new FsArtifactStore(path.join(work, 'store'));
  const folder = await prepareDataset(
    store,
    { source: 'folder', path: img, maskPath: msk, valFraction: 0 },
    { tar: false },
  );
  const fm = await readManifestWithItems(store, folder.manifestKey);
  assert.deepEqual(fm.splits.train!.items.map((i) => i.id).sort(), ['train/cat/plain', `train/dog/${nfc}`]);
  // in9 source
  const root = path.join(work, 'in9');
  await writePair(`${root}/original/val/00_dog/${nfd}.png`, `${root}/fg_mask/val/00_dog/${nfd}.npy`, 3);
  await writePair(`${root}/original/val/01_cat/plain.png`, `${root}/fg_mask/val/01_cat/plain.npy`, 4);
  const in9 = await prepareDataset(store, { source: 'in9', path: root }, { tar: false });
  const im = await readManifestWithItems(store, in9.manifestKey);
  assert.deepEqual(im.splits.val!.items.map((i) => i.id).sort(), [`val/00_dog/${nfc}`, 'val/01_cat/plain']);
});
