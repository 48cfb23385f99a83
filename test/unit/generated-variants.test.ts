import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SplitData } from '../../core/data/manifest';
import { readManifestWithItems } from '../../core/data/manifest-items';
import { sampleHash } from '../../core/data/mask-stats';
import { prepareDataset } from '../../core/data/prepare';
import { decodeRawShard } from '../../core/data/raw-shard';
import type { Sample } from '../../core/data/sample';
import { openSampleSource } from '../../core/data/sample-source';
import { materializeVariant } from '../../core/variants/materialize';
import { applyVariant } from '../../core/variants/registry';
import { type VariantSpecInput, variantSpecSchema } from '../../core/variants/variant-spec';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';

// 3 train shards and 2 val shards, a class-free pool of 2 shards; a pairing window of ~1 shard
const SOURCE = {
  source: 'synthetic',
  classes: 4,
  perClass: { train: 30, val: 10 },
  size: 16,
  bgCorrelation: 0.5,
  seed: 7,
  genericCount: 60,
} as const;
const SHARD = 50;
/** A pairing window of one shard (each 50-image shard of 16 px is ~51 KB). */
const WINDOW = SHARD * 16 * 16 * 4 + 4096;

const VARIANTS: VariantSpecInput[] = [
  'original',
  'only_bg_b',
  'only_bg_t',
  'no_fg',
  'only_fg',
  'mixed_same',
  'mixed_rand',
  'mixed_next',
  'generic_bg',
  { name: 'bg_color', color: 'contrast' },
  { name: 'bg_color', color: 'match' },
  { name: 'bg_blur', sigma: 2 },
  { name: 'bg_reduced', r: 0.2 },
  { name: 'fg_mask_quality', op: 'erode', k: 1 },
  { name: 'fg_mask_quality', op: 'dilate', k: 2 },
  { name: 'fg_mask_quality', op: 'bbox' },
  { name: 'fg_mask_quality', op: 'grabcut', k: 2 },
];

async function collect(it: AsyncIterable<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of it) out.push(s);
  return out;
}

/** The stored raw shards of a split, decoded directly (no SampleSource). */
async function storedPixels(store: FsArtifactStore, data: SplitData): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const s of data.shards) out.push(...(await decodeRawShard(await store.get(s.raw!), s.raw)));
  return out;
}

function same(a: Sample, b: Sample, what: string): void {
  assert.equal(a.id, b.id, what);
  assert.equal(a.label, b.label, what);
  assert.equal(a.width, b.width, what);
  assert.equal(a.height, b.height, what);
  assert.ok(Buffer.from(a.rgb).equals(Buffer.from(b.rgb)), `${what}: rgb differs`);
  assert.ok(Buffer.from(a.mask!).equals(Buffer.from(b.mask!)), `${what}: mask differs`);
}

test('every variant read on the fly is byte-identical to its stored pixels, in the same order, shuffled or not', async () => {
  const stored = new FsArtifactStore(await tempDir());
  const onTheFly = new FsArtifactStore(await tempDir());
  const dsA = await prepareDataset(stored, SOURCE, { shardSize: SHARD });
  const dsB = await prepareDataset(onTheFly, SOURCE, { shardSize: SHARD });
  assert.equal(dsA.manifestKey, dsB.manifestKey);
  const dataset = await readManifestWithItems(onTheFly, dsB.manifestKey);
  const datasetSamples = new Map<string, Sample & { bbox: number[] }>();
  for (const split of ['train', 'val', 'generic'] as const) {
    const data = dataset.splits[split]!;
    const samples = await storedPixels(onTheFly, data);
    samples.forEach((s, i) => datasetSamples.set(s.id, { ...s, bbox: data.items[i]!.bbox }));
  }
  assert.ok(dataset.splits.train!.shards.length >= 3 && dataset.splits.generic!.shards.length >= 2);

  for (const input of VARIANTS) {
    const spec = variantSpecSchema.parse(input);
    const what = JSON.stringify(input);
    const opts = { windowBytes: WINDOW };
    const b = await materializeVariant(
      onTheFly,
      { datasetManifestKey: dsB.manifestKey, variant: spec, seed: 3 },
      opts,
    );
    // GrabCut's masks differ between two computations of one batch here, so the stored variant gets the same
    // cached GrabCut batches (what is compared is how the pixels are kept, not GrabCut)
    for (const k of await onTheFly.list('masks/grabcut/')) await stored.put(k, await onTheFly.get(k));
    const a = await materializeVariant(
      stored,
      { datasetManifestKey: dsA.manifestKey, variant: spec, seed: 3 },
      {
        ...opts,
        storePixels: true,
      },
    );
    assert.equal(a.manifestKey, b.manifestKey, `${what}: the key does not depend on how pixels are kept`);
    const ma = await readManifestWithItems(stored, a.manifestKey);
    const mb = await readManifestWithItems(onTheFly, b.manifestKey);
    assert.equal(mb.generatedFrom, dsB.manifestKey);
    for (const split of ['train', 'val'] as const) {
      const da = ma.splits[split]!;
      const db = mb.splits[split]!;
      assert.deepEqual(db.items, da.items, `${what} ${split}: the same items, hashes and pairing`);
      assert.deepEqual(
        db.shards.map((s) => [s.count, s.bytes, s.raw]),
        da.shards.map((s) => [s.count, s.bytes, undefined]),
        `${what} ${split}: generated shards have the stored shards' sizes and no pixels`,
      );
      const want = await storedPixels(stored, da);
      const got = await collect((await openSampleSource(onTheFly, b.manifestKey, split)).iterate());
      assert.equal(got.length, want.length);
      got.forEach((s, i) => assert.equal(sampleHash(s), db.items[i]!.hash, `${what} ${split} #${i}: hash`));
      got.forEach((s, i) => same(s, want[i]!, `${what} ${split} #${i}`));
      // shuffled, with a budget of one shard (groups of one shard) and a resume point
      const small = { cacheBytes: da.shards[0]!.bytes + 1 };
      const shuffledWant = await collect(
        (await openSampleSource(stored, a.manifestKey, split, small)).iterate({ shuffleSeed: 9, skip: 7 }),
      );
      const shuffledGot = await collect(
        (await openSampleSource(onTheFly, b.manifestKey, split, small)).iterate({ shuffleSeed: 9, skip: 7 }),
      );
      assert.equal(shuffledGot.length, want.length - 7);
      shuffledGot.forEach((s, i) => same(s, shuffledWant[i]!, `${what} ${split} shuffled #${i}`));
      // streamed: a budget under one shard reads sample by sample
      const streamed = await collect(
        (await openSampleSource(onTheFly, b.manifestKey, split, { cacheBytes: 100 })).iterate({ skip: 3 }),
      );
      streamed.forEach((s, i) => same(s, want[i + 3]!, `${what} ${split} streamed #${i + 3}`));
      // independent of both code paths: the pure variant function on the recorded source and donor
      if (spec.name === 'fg_mask_quality' && spec.op === 'grabcut') continue;
      for (const [i, item] of db.items.entries()) {
        const src = datasetSamples.get(item.id)!;
        const donor = item.bgFrom ? datasetSamples.get(item.bgFrom) : undefined;
        const raw = (s: typeof src) => ({
          width: s.width,
          height: s.height,
          rgb: s.rgb,
          mask: s.mask!,
          bbox: s.bbox as never,
        });
        const expected = applyVariant(spec, raw(src), donor && raw(donor));
        assert.ok(
          Buffer.from(got[i]!.rgb).equals(Buffer.from(expected)),
          `${what} ${split} #${i}: recomputed`,
        );
      }
    }
  }
  // nothing of a variant's pixels is stored: only manifests and shard indexes
  const variantKeys = await onTheFly.list('variants/');
  assert.ok(variantKeys.length > 0);
  assert.deepEqual(
    variantKeys.filter((k) => !k.endsWith('.json') && !k.endsWith('.json.gz')),
    [],
  );
  assert.ok((await stored.list('variants/')).some((k) => k.endsWith('.bgraw')));
});

test('a generated paired variant reads each dataset shard once per pass when its cache holds a pairing window', async () => {
  const fs = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(fs, SOURCE, { shardSize: 20 }); // train: 6 shards of 20 images
  const shardBytes = (await readManifestWithItems(fs, ds.manifestKey)).splits.train!.shards[0]!.bytes;
  // pairing windows of 2 shards
  const v = await materializeVariant(
    fs,
    { datasetManifestKey: ds.manifestKey, variant: 'mixed_rand', seed: 1 },
    { windowBytes: 2 * shardBytes + 4 },
  );
  const gets: string[] = [];
  const counting = Object.assign(Object.create(fs) as FsArtifactStore, {
    get: async (key: string) => {
      gets.push(key);
      return fs.get(key);
    },
    getStream: async (key: string) => {
      gets.push(key);
      return fs.getStream(key);
    },
  });
  const src = await openSampleSource(counting, v.manifestKey, 'train', {
    cacheBytes: shardBytes + 8,
    sourceCacheBytes: 3 * shardBytes + 8,
  });
  assert.equal((await collect(src.iterate())).length, 120);
  const reads = gets.filter((k) => k.includes('/shards/train-') && k.endsWith('.bgraw'));
  assert.equal(reads.length, 6, reads.join(', '));
  assert.equal(new Set(reads).size, 6);
});
