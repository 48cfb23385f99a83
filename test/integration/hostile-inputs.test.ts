import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { startStudy } from '../../client/start-study';
import { type ManifestWithItems, readManifestWithItems } from '../../core/data/manifest-items';
import { maskToNpy } from '../../core/data/npy';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store/json';
import type { S3ArtifactStore } from '../../store/s3-store';
import { tempDir, testServices, uniqueId } from '../helpers/env';
import { startTestStudyEnv, type TestStudyEnv } from '../helpers/study-env';
import { peakRssGrowth, servePaths, tarGz, writeBombPng, type TarEntry } from '../helpers/hostile-fixtures';
import { fixturePixels, writePair } from '../helpers/image-fixtures';
import { billionLaughsXml, drawnObjects, vocXml, writeDrawn } from '../helpers/mask-fixtures';

/**
 * Fault injection through the real import and variant activities, on real workers, Temporal and S3: a folder
 * dataset and an archive (URL) dataset, each with a few good images and one of each hostile case. Every case must
 * be reported by name, the good images must go through import and every variant, nothing may be written outside
 * the store and the cache folder, and the process must not swell by what decoding a bomb would take.
 */
const services = testServices();
let env: TestStudyEnv;
let client: Client;
let store: S3ArtifactStore;
let taskQueue: string;
let work: string;
const VARIANTS = ['original', 'only_bg_t', 'mixed_rand'];

before(async () => {
  work = await tempDir('hostile-');
  env = await startTestStudyEnv('hostile', {
    cacheDir: path.join(work, 'sentinel', 'cache'),
    s3Sources: true,
  });
  ({ client, store, taskQueue } = env);
});
after(() => env?.stop());

/** Good in9-layout archive entries: `perClass` 20 px images with .npy masks in each of two classes. */
async function goodIn9Entries(perClass: number): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  for (const [k, cls] of ['00_dog', '01_bird'].entries())
    for (let i = 0; i < perClass; i++) {
      const px = fixturePixels(20, 20, k * perClass + i, [3, 4, 12, 14]);
      entries.push({
        name: `bg/original/val/${cls}/img_${i}.png`,
        body: await sharp(px.rgb, { raw: { width: 20, height: 20, channels: 3 } })
          .png()
          .toBuffer(),
      });
      entries.push({ name: `bg/fg_mask/val/${cls}/img_${i}.npy`, body: maskToNpy(px.mask, 20, 20) });
    }
  return entries;
}

/** Every path under `dir` (links not followed). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await tree(p)));
  }
  return out.sort();
}

/** Runs a data-only study of `dataset` and returns its dataset manifest and its variants' manifests. */
async function study(name: string, dataset: unknown, heartbeatTimeout?: Duration) {
  const handle = await startStudy(
    client,
    { version: 1, name, dataset, variants: VARIANTS },
    {
      taskQueue,
      workflowId: uniqueId(name),
      workflowOptions: {
        gpuTaskQueue: `${taskQueue}-gpu`,
        ...(heartbeatTimeout ? { heartbeatTimeout } : {}),
      },
    },
  );
  const result = await handle.result();
  assert.equal(result.status, 'completed');
  const results = await getJson<StudyResults>(store, result.resultsKey!);
  const manifest = await readManifestWithItems(store, results.dataset!.manifestKey);
  const variants = await Promise.all(
    results.variants.map((v) => readManifestWithItems(store, v.manifestKey!)),
  );
  return { manifest, variants };
}

const ids = (m: ManifestWithItems) =>
  Object.values(m.splits)
    .flatMap((s) => s.items.map((i) => i.id))
    .sort();

test('hostile datasets: each case reported by name, the rest imported and varied, nothing written outside', async () => {
  const sentinel = path.join(work, 'sentinel');
  const data = path.join(sentinel, 'data');
  const img = path.join(data, 'images');
  const msk = path.join(data, 'masks');
  // the folder dataset: 4 good pairs per class, and one of each hostile case
  for (const [k, cls] of ['cat', 'dog'].entries())
    for (let i = 0; i < 4; i++)
      await writePair(`${img}/${cls}/g${i}.png`, `${msk}/${cls}/g${i}.png`, k * 4 + i);
  await writeBombPng(`${img}/cat/bomb.png`, 10_000, 10_000);
  await writePair(`${sentinel}/unused/x.png`, `${msk}/cat/bomb.png`, 20);
  await writePair(`${img}/dog/trunc.jpg`, `${msk}/dog/trunc.png`, 21);
  const jpeg = await readFile(`${img}/dog/trunc.jpg`);
  await writeFile(`${img}/dog/trunc.jpg`, jpeg.subarray(0, jpeg.length >> 1));
  await writePair(`${sentinel}/outside/secret.png`, `${msk}/dog/out.png`, 22);
  await symlink(`${sentinel}/outside/secret.png`, `${img}/dog/out.png`);
  await writePair(`${img}/cat/bell\u0007.png`, `${msk}/cat/bell\u0007.png`, 23);
  await writeFile(`${img}/dog/vector.png`, '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>');
  await writePair(`${sentinel}/unused/y.png`, `${msk}/dog/vector.png`, 24);
  // a good image whose provided mask is the decompression bomb
  await writePair(`${img}/dog/maskbomb.png`, `${sentinel}/unused/z.png`, 25);
  await writeBombPng(`${msk}/dog/maskbomb.png`, 10_000, 10_000);

  // the archive dataset (in9 layout) served over HTTP: good pairs, a bomb, links, a FIFO, traversal
  const entries = await goodIn9Entries(3);
  await writeBombPng(`${work}/bomb2.png`, 10_000, 10_000);
  entries.push(
    { name: 'bg/original/val/01_bird/bomb.png', body: await readFile(`${work}/bomb2.png`) },
    {
      name: 'bg/fg_mask/val/01_bird/bomb.npy',
      body: maskToNpy(new Uint8Array(400).fill(255, 0, 200), 20, 20),
    },
    { name: 'bg/original/val/00_dog/passwd.png', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'bg/original/val/00_dog/hard.png', type: 'link', linkname: '../../../../../../etc/hostname' },
    { name: 'bg/original/val/00_dog/pipe.png', type: 'fifo' },
    { name: '../../escape.txt', body: Buffer.from('escaped') },
    { name: '/tmp/bgstudy-hostile-absolute.txt', body: Buffer.from('escaped') },
  );
  const archive = await tarGz(entries);
  const server = await servePaths((_p, res) => {
    res.writeHead(200, { 'content-length': archive.length });
    res.end(archive);
  });
  const before = await tree(work);
  try {
    const { result, growth } = await peakRssGrowth(async () => ({
      folder: await study('hostile-folder', { source: 'folder', path: img, maskPath: msk, size: 16 }),
      archive: await study('hostile-archive', { source: 'in9', url: `${server.base}/bg.tar.gz`, size: 16 }),
    }));

    // the folder dataset: every case by name, the 8 good images in the dataset and in every variant
    const folder = result.folder;
    const reasons = new Map(folder.manifest.skipped.map((s) => [path.relative(data, s.file), s.reason]));
    assert.match(reasons.get('images/cat/bomb.png') ?? '', /10000x10000 = 100000000 pixels, over the limit/);
    assert.match(reasons.get('images/dog/trunc.jpg') ?? '', /cannot decode image/);
    assert.match(reasons.get('images/dog/out.png') ?? '', /pointing outside the dataset folder/);
    assert.match(reasons.get('images/cat/bell\\x07.png') ?? '', /control characters/);
    assert.match(reasons.get('images/dog/vector.png') ?? '', /SVG\/XML content; vector and document formats/);
    assert.match(
      reasons.get('masks/dog/maskbomb.png') ?? '',
      /mask is 10000x10000 = 100000000 pixels, over the limit/,
    );
    const good = ['cat', 'dog'].flatMap((c) => [0, 1, 2, 3].map((i) => `${c}/g${i}`));
    assert.deepEqual(
      ids(folder.manifest)
        .map((id) => id.split('/').slice(1).join('/'))
        .sort(),
      good,
    );
    assert.ok(folder.variants.length >= VARIANTS.length, `${folder.variants.length} variants`);
    for (const v of folder.variants) assert.deepEqual(ids(v), ids(folder.manifest));

    // the archive dataset
    const arch = result.archive;
    const url = `${server.base}/bg.tar.gz`;
    const archReasons = new Map(arch.manifest.skipped.map((s) => [s.file.replace(`${url}!/`, ''), s.reason]));
    assert.match(archReasons.get('bg/original/val/00_dog/passwd.png') ?? '', /symbolic link/);
    assert.match(archReasons.get('bg/original/val/00_dog/hard.png') ?? '', /hard link/);
    assert.match(archReasons.get('bg/original/val/00_dog/pipe.png') ?? '', /FIFO/);
    assert.match(archReasons.get('../../escape.txt') ?? '', /\.\./);
    assert.match(archReasons.get('/tmp/bgstudy-hostile-absolute.txt') ?? '', /absolute path/);
    const bomb = arch.manifest.skipped.find((s) => s.file.endsWith('01_bird/bomb.png'));
    assert.match(bomb?.reason ?? 'not reported', /over the limit/);
    assert.equal(ids(arch.manifest).length, 6);
    for (const v of arch.variants) assert.deepEqual(ids(v), ids(arch.manifest));

    // nothing written outside the store and the cache folder
    const added = (await tree(work)).filter((p) => !before.includes(p));
    const outsideCache = added.filter(
      (p) => !p.startsWith(path.join(sentinel, 'cache') + path.sep) && p !== path.join(sentinel, 'cache'),
    );
    assert.deepEqual(outsideCache, []);
    await assert.rejects(stat('/tmp/bgstudy-hostile-absolute.txt'));
    await assert.rejects(stat(path.resolve(sentinel, 'cache', '..', '..', 'escape.txt')));
    // three bombs of 100-300 MB each once decoded: refused from their header, the process stays small
    assert.ok(growth < 200 * 2 ** 20, `RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
    console.log(`hostile studies: peak RSS growth ${(growth / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await server.close();
  }
});

test('an s3:// source: objects whose names are not plain relative paths are refused by name, the rest imported', async () => {
  const prefix = uniqueId('hostile-src');
  const client = new S3Client({
    endpoint: services.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: services.s3.credentials,
  });
  const local = await tempDir();
  try {
    const put = async (key: string, file: string) =>
      client.send(
        new PutObjectCommand({
          Bucket: services.s3.bucket,
          Key: `${prefix}/${key}`,
          Body: await readFile(file),
        }),
      );
    for (const [k, cls] of ['cat', 'dog'].entries())
      for (let i = 0; i < 2; i++) {
        await writePair(`${local}/i${k}${i}.png`, `${local}/m${k}${i}.png`, k * 2 + i);
        await put(`images/${cls}/g${i}.png`, `${local}/i${k}${i}.png`);
        await put(`masks/${cls}/g${i}.png`, `${local}/m${k}${i}.png`);
      }
    // a name with a space is a dataset name like any other (IN-9's `02_wheeled vehicle`); a backslash is not
    await put('images/cat/with space.png', `${local}/i01.png`);
    await put('masks/cat/with space.png', `${local}/m01.png`);
    await put('images/cat/evil\\name.png', `${local}/i00.png`);
    await put('masks/cat/evil\\name.png', `${local}/m00.png`);
    const base = `s3://${services.s3.bucket}/${prefix}`;
    const { manifest, variants } = await study('hostile-s3', {
      source: 'folder',
      path: `${base}/images`,
      maskPath: `${base}/masks`,
      size: 16,
    });
    assert.equal(ids(manifest).length, 5);
    assert.ok(
      ids(manifest).some((id) => id.endsWith('/cat/with space')),
      'the name with a space is imported',
    );
    for (const v of variants) assert.deepEqual(ids(v), ids(manifest));
    const refused = manifest.skipped
      .filter((s) => /not a plain relative path/.test(s.reason))
      .map((s) => s.file);
    assert.deepEqual(refused.sort(), [
      `${base}/images/cat/evil\\name.png`,
      `${base}/masks/cat/evil\\name.png`,
    ]);
  } finally {
    client.destroy();
  }
});

test(
  'a slow download heartbeats: one request, no heartbeat timeout, no restart',
  { timeout: 120_000 },
  async () => {
    const entries = await goodIn9Entries(2);
    const archive = await tarGz(entries);
    let requests = 0;
    // 3 s of trickle against a 1 s heartbeat timeout: only heartbeats during the download keep the attempt alive
    const server = await servePaths((_p, res) => {
      requests++;
      res.writeHead(200, { 'content-length': archive.length });
      const parts = 20;
      const step = Math.ceil(archive.length / parts);
      let i = 0;
      const timer = setInterval(() => {
        res.write(archive.subarray(i * step, (i + 1) * step));
        if (++i === parts) {
          clearInterval(timer);
          res.end();
        }
      }, 150);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const { manifest } = await study(
        'hostile-slow',
        { source: 'in9', url: `${server.base}/slow-${uniqueId('a')}.tar.gz`, size: 16 },
        '1s',
      );
      assert.equal(ids(manifest).length, 4);
      assert.equal(requests, 1, 'the download was never restarted');
    } finally {
      await server.close();
    }
  },
);

test('a boxes-only dataset: hostile annotations reported by name, GrabCut masks for the rest, in every variant', async () => {
  const sentinel = path.join(work, 'boxes-sentinel');
  const root = path.join(sentinel, 'data');
  const boxes = path.join(root, 'boxes');
  const objects = drawnObjects(8, 24, 6);
  for (const [i, o] of objects.entries()) {
    const cls = i % 2 ? 'dog' : 'cat';
    await writeDrawn(root, cls, `g${i}`, o, { xml: vocXml(24, 24, [{ name: cls, box: o.box }]) });
  }
  // g0: billion laughs (with a usable box); g1: linked to an annotation outside the folder; g2: 5 MiB of XML
  await writeFile(path.join(boxes, 'cat/g0.xml'), billionLaughsXml(24, 24, 'cat', objects[0]!.box));
  await writeFile(path.join(sentinel, 'secret.xml'), vocXml(24, 24, [{ name: 'dog', box: objects[1]!.box }]));
  await rm(path.join(boxes, 'dog/g1.xml'));
  await symlink(path.join(sentinel, 'secret.xml'), path.join(boxes, 'dog/g1.xml'));
  await truncate(path.join(boxes, 'cat/g2.xml'), 5 * 2 ** 20);
  const before = await tree(sentinel);
  const { manifest, variants } = await study('hostile-boxes', {
    source: 'folder',
    path: path.join(root, 'images'),
    valFraction: 0,
    masks: { use: 'grabcut', boxes: { format: 'voc-xml', path: boxes }, grabcut: { iterations: 3 } },
  });
  const reasons = new Map(manifest.skipped.map((s) => [path.relative(root, s.file), s.reason]));
  assert.match(reasons.get('boxes/cat/g0.xml') ?? '', /XML declares a DOCTYPE .* refused unparsed/);
  assert.match(reasons.get('boxes/dog/g1.xml') ?? '', /symbolic link pointing outside the dataset folder/);
  assert.match(reasons.get('boxes/cat/g2.xml') ?? '', /5242880 bytes, over the limit of 4194304/);
  assert.equal(manifest.skipped.length, 3, JSON.stringify(manifest.skipped));
  const good = ['cat/g4', 'cat/g6', 'dog/g3', 'dog/g5', 'dog/g7'].map((id) => `train/${id}`);
  assert.deepEqual(ids(manifest), good);
  assert.deepEqual(
    manifest.masks?.perSource.map((p) => [p.source, p.masks]),
    [['grabcut', 5]],
  );
  for (const v of variants) assert.deepEqual(ids(v), good);
  assert.deepEqual(
    (await tree(sentinel)).filter((p) => !before.includes(p)),
    [],
  );
});
