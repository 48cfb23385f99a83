import { test } from 'node:test';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import { extract } from 'tar-stream';
import assert from 'node:assert/strict';
import { FsArtifactStore } from '../../store/fs-store';
import type { ArtifactStore } from '../../store/artifact-store';
import { prepareDataset } from '../../core/data/prepare';
import { openSampleSource } from '../../core/data/sample-source';
import { readManifestWithItems } from '../../core/data/manifest-items';
import type { Sample } from '../../core/data/sample';
import { materializeVariant } from '../../core/variants/materialize';
import { onlyBgT, rawImage } from '../../core/variants/ops';
import { tempDir } from '../helpers/env';

const SOURCE = {
  source: 'synthetic',
  classes: 4,
  perClass: { train: 30, val: 10 },
  size: 16,
  bgCorrelation: 0.5,
  seed: 3,
  genericCount: 12,
} as const;

async function collect(it: AsyncIterable<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of it) out.push(s);
  return out;
}

test('prepare writes shards + manifest once; a SampleSource reads every sample back, shuffled by seed, with skip', async () => {
  const store = new FsArtifactStore(await tempDir());
  const progress: number[] = [];
  const a = await prepareDataset(store, SOURCE, {
    shardSize: 50,
    onProgress: (p) => progress.push(p.shardsDone),
  });
  assert.equal(a.reused, false);
  assert.deepEqual(a.counts, { train: 120, val: 40, generic: 12 });
  assert.deepEqual(a.classes, ['disk', 'square', 'triangle', 'plus']);
  assert.match(a.manifestKey, /^datasets\/[0-9a-f]{16}\/manifest\.json$/);
  assert.deepEqual(progress, [1, 2, 3, 1, 1]);
  const m = await readManifestWithItems(store, a.manifestKey);
  assert.equal(m.splits.train!.shards.length, 3);
  // the training shards only: PNG tar shards are written when asked for (below) or by `data export`
  assert.ok(m.splits.train!.shards.every((s) => !s.tar && s.raw?.endsWith('.bgraw')));
  assert.ok(
    m.splits.train!.items.every((it) => it.bbox[2] > it.bbox[0] && it.hash.length === 16 && it.bgFamily),
  );
  const again = await prepareDataset(store, SOURCE);
  assert.equal(again.reused, true);
  assert.equal(again.manifestKey, a.manifestKey);

  const src = await openSampleSource(store, a.manifestKey, 'train');
  assert.equal(src.count(), 120);
  const plain = await collect(src.iterate());
  assert.equal(plain.length, 120);
  assert.deepEqual(plain.map((s) => s.label).slice(0, 8), [0, 1, 2, 3, 0, 1, 2, 3]);
  assert.equal(plain[5]!.rgb.length, 16 * 16 * 3);
  assert.equal(plain[5]!.mask!.length, 16 * 16);
  const s1 = (await collect(src.iterate({ shuffleSeed: 9 }))).map((s) => s.id);
  const s2 = (await collect(src.iterate({ shuffleSeed: 9 }))).map((s) => s.id);
  const s3 = (await collect(src.iterate({ shuffleSeed: 10 }))).map((s) => s.id);
  assert.deepEqual(s1, s2);
  assert.notDeepEqual(s1, s3);
  assert.deepEqual([...s1].sort(), plain.map((s) => s.id).sort());
  assert.deepEqual(
    (await collect(src.iterate({ shuffleSeed: 9, skip: 37 }))).map((s) => s.id),
    s1.slice(37),
  );
  // a small cache budget mixes per shard group, still every sample once and resumable
  const small = await openSampleSource(store, a.manifestKey, 'train', { cacheBytes: 20_000 });
  const g = (await collect(small.iterate({ shuffleSeed: 4 }))).map((s) => s.id);
  assert.deepEqual([...g].sort(), plain.map((s) => s.id).sort());
  assert.deepEqual(
    (await collect(small.iterate({ shuffleSeed: 4, skip: 61 }))).map((s) => s.id),
    g.slice(61),
  );
});

test('the same source and seed give byte-identical shards in another store; a finished shard is reused on resume', async () => {
  const s1 = new FsArtifactStore(await tempDir());
  const s2 = new FsArtifactStore(await tempDir());
  const a = await prepareDataset(s1, SOURCE, { shardSize: 50 });
  const b = await prepareDataset(s2, SOURCE, { shardSize: 50 });
  const keys = await s1.list('datasets/');
  assert.deepEqual(keys, await s2.list('datasets/'));
  for (const k of keys) assert.ok((await s1.get(k)).equals(await s2.get(k)), `${k} differs`);
  // resume: drop the manifest and one shard; a rerun rewrites only that shard
  const m = await readManifestWithItems(s2, b.manifestKey);
  const second = m.splits.train!.shards[1]!.raw!;
  await s2.delete(b.manifestKey);
  await s2.delete(second);
  await s2.delete(second.replace('.bgraw', '.index.json.gz'));
  const reused: boolean[] = [];
  await prepareDataset(s2, SOURCE, {
    shardSize: 50,
    onProgress: (p) => p.split === 'train' && reused.push(p.reused),
  });
  assert.deepEqual(reused, [true, false, true]);
  assert.ok((await s2.get(second)).equals(await s1.get(second)));
  assert.equal(a.manifestKey, b.manifestKey);
});

test('variants: mixed_next backgrounds come from class y+1, recorded and reproducible; keys differ by params', async () => {
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(store, SOURCE, { shardSize: 50 });
  const v = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: 'mixed_next',
    seed: 5,
  });
  assert.match(
    v.manifestKey,
    new RegExp(`^variants/${ds.datasetHash}/mixed_next/[0-9a-f]{16}/manifest\\.json$`),
  );
  assert.deepEqual(v.counts, { train: 120, val: 40 });
  const original = new Map(
    (await collect((await openSampleSource(store, ds.manifestKey, 'train')).iterate())).map((s) => [s.id, s]),
  );
  const vm = await readManifestWithItems(store, v.manifestKey);
  const out = await collect((await openSampleSource(store, v.manifestKey, 'train')).iterate());
  assert.equal(out.length, 120);
  vm.splits.train!.items.forEach((item, i) => {
    const donor = original.get(item.bgFrom!)!;
    const src = original.get(item.id)!;
    assert.equal(donor.label, (src.label + 1) % 4, `${item.id} got a background from ${item.bgFrom}`);
    const bg = onlyBgT(rawImage(16, 16, donor.rgb, donor.mask!));
    const o = out[i]!;
    assert.equal(o.id, item.id);
    for (let p = 0; p < 256; p++) {
      const want = src.mask![p] ? src.rgb : bg;
      for (let k = 0; k < 3; k++) assert.equal(o.rgb[p * 3 + k], want[p * 3 + k]);
    }
  });
  const again = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: 'mixed_next',
    seed: 5,
  });
  assert.equal(again.reused, true);
  const other = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: 'mixed_next',
    seed: 6,
  });
  assert.notEqual(other.manifestKey, v.manifestKey);
  const store2 = new FsArtifactStore(await tempDir());
  const ds2 = await prepareDataset(store2, SOURCE, { shardSize: 50 });
  const v2 = await materializeVariant(store2, {
    datasetManifestKey: ds2.manifestKey,
    variant: 'mixed_next',
    seed: 5,
  });
  assert.equal(v2.manifestKey, v.manifestKey);
  for (const k of await store.list(v.manifestKey.replace('manifest.json', '')))
    assert.ok((await store.get(k)).equals(await store2.get(k)), `${k} differs`);
  // a seed does not change a non-paired variant's key
  const b1 = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: { name: 'bg_blur', sigma: 2 },
    seed: 1,
  });
  const b2 = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: { name: 'bg_blur', sigma: 2 },
    seed: 2,
  });
  const b3 = await materializeVariant(store, {
    datasetManifestKey: ds.manifestKey,
    variant: { name: 'bg_blur', sigma: 3 },
  });
  assert.equal(b1.manifestKey, b2.manifestKey);
  assert.equal(b2.reused, true);
  assert.notEqual(b1.manifestKey, b3.manifestKey);
});

test('mixed_same and mixed_rand pair as specified; generic_bg uses the class-free pool', async () => {
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(store, SOURCE, { shardSize: 50 });
  const m = await readManifestWithItems(store, ds.manifestKey);
  const labelOf = new Map(m.splits.train!.items.map((it) => [it.id, it.label]));
  const same = await readManifestWithItems(
    store,
    (await materializeVariant(store, { datasetManifestKey: ds.manifestKey, variant: 'mixed_same', seed: 1 }))
      .manifestKey,
  );
  for (const it of same.splits.train!.items) {
    assert.equal(labelOf.get(it.bgFrom!), it.label);
    assert.notEqual(it.bgFrom, it.id);
  }
  const rand = await readManifestWithItems(
    store,
    (await materializeVariant(store, { datasetManifestKey: ds.manifestKey, variant: 'mixed_rand', seed: 1 }))
      .manifestKey,
  );
  const seen = new Set(rand.splits.train!.items.map((it) => labelOf.get(it.bgFrom!)! - it.label));
  assert.ok(seen.size >= 4, 'mixed_rand should pair across classes');
  const gen = await readManifestWithItems(
    store,
    (await materializeVariant(store, { datasetManifestKey: ds.manifestKey, variant: 'generic_bg', seed: 1 }))
      .manifestKey,
  );
  assert.ok(gen.splits.val!.items.every((it) => it.bgFrom!.startsWith('generic/')));
});

test('worker threads give byte-identical variant shards', async () => {
  const s1 = new FsArtifactStore(await tempDir());
  const s2 = new FsArtifactStore(await tempDir());
  const specs = ['mixed_rand', { name: 'bg_blur', sigma: 1.5 }] as const;
  for (const [store, threads] of [
    [s1, 1],
    [s2, 2],
  ] as const) {
    const ds = await prepareDataset(store, SOURCE, { shardSize: 50 });
    for (const variant of specs)
      await materializeVariant(
        store,
        { datasetManifestKey: ds.manifestKey, variant, seed: 4 },
        { threads, storePixels: true },
      );
  }
  const keys = await s1.list('variants/');
  assert.equal(keys.filter((k) => k.endsWith('.bgraw')).length, 2 * 4);
  assert.deepEqual(keys, await s2.list('variants/'));
  for (const k of keys) assert.ok((await s1.get(k)).equals(await s2.get(k)), `${k} differs`);
});

test('a split larger than the pairing window pairs within shard windows and reads each dataset shard once', async () => {
  const fs = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(fs, SOURCE, { shardSize: 20 }); // train: 6 shards of 20 images (~20 KB each)
  const gets: string[] = [];
  const counting: ArtifactStore = Object.assign(Object.create(fs) as FsArtifactStore, {
    get: async (key: string) => {
      gets.push(key);
      return fs.get(key);
    },
  });
  const v = await materializeVariant(
    counting,
    { datasetManifestKey: ds.manifestKey, variant: 'mixed_next', seed: 2 },
    { windowBytes: 25_000 },
  );
  const m = await readManifestWithItems(fs, v.manifestKey);
  const dm = await readManifestWithItems(fs, ds.manifestKey);
  const shardOf = new Map(dm.splits.train!.items.map((it, i) => [it.id, Math.floor(i / 20)]));
  const labelOf = new Map(dm.splits.train!.items.map((it) => [it.id, it.label]));
  for (const it of m.splits.train!.items) {
    assert.equal(shardOf.get(it.bgFrom!), shardOf.get(it.id), `${it.id} paired outside its window`);
    assert.equal(labelOf.get(it.bgFrom!), (it.label + 1) % 4);
  }
  const trainShardReads = gets.filter((k) => k.includes('/shards/train-') && k.endsWith('.bgraw'));
  assert.equal(trainShardReads.length, 6);
  assert.equal(new Set(trainShardReads).size, 6);
});

test('tar shards hold index.json and, per sample, PNG pixels and mask equal to the raw shard', async () => {
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(store, SOURCE, { shardSize: 50, tar: true });
  const m = await readManifestWithItems(store, ds.manifestKey);
  const shard = m.splits.val!.shards[0]!;
  const files = new Map<string, Buffer>();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      files.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  await pipeline(Readable.from([await store.get(shard.tar!)]), ex);
  const index = JSON.parse(files.get('index.json')!.toString()) as { id: string }[];
  const raw = await collect((await openSampleSource(store, ds.manifestKey, 'val')).iterate());
  assert.deepEqual(
    index.map((it) => it.id),
    raw.map((s) => s.id),
  );
  for (const [i, s] of raw.entries()) {
    const key = String(i).padStart(6, '0');
    const rgb = await sharp(files.get(`${key}.png`))
      .raw()
      .toBuffer();
    const mask = await sharp(files.get(`${key}.mask.png`))
      .extractChannel(0)
      .raw()
      .toBuffer();
    assert.ok(rgb.equals(Buffer.from(s.rgb)), `${key}.png differs from ${s.id}`);
    assert.ok(mask.equals(Buffer.from(s.mask!)), `${key}.mask.png differs`);
    assert.equal((JSON.parse(files.get(`${key}.json`)!.toString()) as { id: string }).id, s.id);
  }
});
