import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { S3ArtifactStore } from '../../store/s3-store';
import { s3PrefixOpener } from '../../store/s3-prefix-opener';
import { assertObjectName } from '../../core/data/safe-names';
import { FsArtifactStore } from '../../store/fs-store';
import { readManifestWithItems } from '../../core/data/manifest-items';
import { prepareDataset } from '../../core/data/prepare';
import { writePair } from '../helpers/image-fixtures';
import { tempDir, testServices, uniqueId } from '../helpers/env';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

test('in9 from an s3:// prefix on the real S3 server gives the same images as from the folder', async () => {
  const { s3 } = testServices();
  const root = await tempDir();
  // IN-9's own class folders have spaces (`02_wheeled vehicle`); file names may be in any script
  const classes = ['00_dog', '01_bird', '02_wheeled vehicle', '03_musical instrument', '04_café'];
  for (const [k, cls] of classes.entries()) {
    for (let i = 0; i < 3; i++)
      await writePair(
        `${root}/original/val/${cls}/n0${k}_${i}${k === 4 ? ' ünïcode' : ''}.JPEG`,
        `${root}/fg_mask/val/${cls}/n0${k}_${i}${k === 4 ? ' ünïcode' : ''}.npy`,
        k * 3 + i,
      );
  }
  const prefix = uniqueId('in9-src');
  const upload = new S3ArtifactStore({ ...s3, prefix, checkKey: assertObjectName });
  const openDataset = s3PrefixOpener({ kind: 's3', ...s3 });
  for (const f of await filesUnder(root)) await upload.put(path.relative(root, f), await readFile(f));
  await upload.close();

  const store = new FsArtifactStore(await tempDir());
  const opened: string[] = [];
  const fromS3 = await prepareDataset(
    store,
    { source: 'in9', path: `s3://${s3.bucket}/${prefix}`, splits: ['val'] },
    {
      cacheDir: await tempDir(),
      openS3: (bucket, p) => {
        opened.push(`${bucket}/${p}`);
        return openDataset(bucket, p);
      },
    },
  );
  assert.deepEqual(opened, [`${s3.bucket}/${prefix}`]);
  const fromFolder = await prepareDataset(store, { source: 'in9', path: root, splits: ['val'] });
  assert.deepEqual(fromS3.counts, { val: 15 });
  assert.deepEqual(fromS3.classes, ['dog', 'bird', 'wheeled vehicle', 'musical instrument', 'café']);
  const items = async (key: string) =>
    (await readManifestWithItems(store, key)).splits.val!.items.map((it) => [it.id, it.hash]);
  assert.deepEqual(await items(fromS3.manifestKey), await items(fromFolder.manifestKey));
  await assert.rejects(
    prepareDataset(
      store,
      { source: 'in9', path: `s3://${s3.bucket}/${prefix}-none`, splits: ['val'] },
      { cacheDir: await tempDir() },
    ),
    /needs S3 access/,
  );
});
