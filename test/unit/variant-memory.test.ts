import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataManifest } from '../../core/data/manifest';
import { prepareDataset } from '../../core/data/prepare';
import { materializeVariant } from '../../core/variants/materialize';
import { FsArtifactStore } from '../../store/fs-store';
import { getJson } from '../../store/json';
import { tempDir } from '../helpers/env';
import { liveBytes } from '../helpers/live-memory';

// 24 train shards of 20 images at 96 px (~0.7 MiB each, ~17 MiB in all), 4 val shards, a pool of 3 shards
const SOURCE = {
  source: 'synthetic',
  classes: 4,
  perClass: { train: 120, val: 20 },
  size: 96,
  seed: 5,
  genericCount: 60,
} as const;
const SHARD = 20;
const PAIRED = ['mixed_same', 'mixed_rand', 'mixed_next', 'generic_bg'] as const;

/** Live bytes once freed buffers are really gone (ArrayBuffers' backing stores are released after the GC). */
async function settledLiveBytes(): Promise<number> {
  liveBytes();
  await sleep(30);
  return liveBytes();
}

/** Runs `work`, sampling settled live memory meanwhile (a sample every ~20 ms, one at a time). */
async function sampling(work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void settledLiveBytes().then((b) => {
      samples.push(b);
      busy = false;
    });
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  assert.ok(samples.length >= 5, `${samples.length} samples`);
  return samples;
}

// single samples spike when a GC runs before a shard's buffers are released; the median is what is held
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function variantFiles(store: FsArtifactStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const k of await store.list('variants/')) out.set(k, (await store.get(k)).toString('utf8'));
  return out;
}

test('a paired variant made with a cache of one shard equals the one made with the whole split cached, and holds no more than a few shards', async () => {
  const small = new FsArtifactStore(await tempDir());
  const large = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(small, SOURCE, { shardSize: SHARD, tar: false });
  await prepareDataset(large, SOURCE, { shardSize: SHARD, tar: false });
  const dataset = await getJson<DataManifest>(small, ds.manifestKey);
  const train = dataset.splits.train!;
  const shardBytes = Math.max(...train.shards.map((s) => s.bytes));
  const datasetBytes = train.shards.reduce((n, s) => n + s.bytes, 0);
  assert.ok(train.shards.length >= 20, `${train.shards.length} train shards`);

  // warm-up (code compiled and loaded once, e.g. the variant pool): not what a dataset's size costs
  await materializeVariant(small, { datasetManifestKey: ds.manifestKey, variant: 'mixed_rand', seed: 99 });
  for (const variant of PAIRED) {
    const base = await settledLiveBytes();
    const grown = await sampling(() =>
      materializeVariant(
        small,
        { datasetManifestKey: ds.manifestKey, variant, seed: 2 },
        { cacheBytes: shardBytes },
      ),
    );
    // one pairing window over the whole split: the donors of every shard come from all 24 shards, and holding
    // them (as a cache over the window does) is the whole split
    const typical = median(grown) - base;
    assert.ok(
      typical < 6 * shardBytes,
      `${variant}: live memory grew by ${(typical / 2 ** 20).toFixed(1)} MiB (median) while making it (a shard ` +
        `is ${(shardBytes / 2 ** 20).toFixed(1)} MiB, the split ${(datasetBytes / 2 ** 20).toFixed(1)} MiB)`,
    );
    await materializeVariant(
      large,
      { datasetManifestKey: ds.manifestKey, variant, seed: 2 },
      { cacheBytes: 4 * datasetBytes },
    );
  }
  const a = await variantFiles(small);
  const b = await variantFiles(large);
  assert.equal(
    b.size,
    PAIRED.length * (24 + 4 + 1),
    `${b.size} variant files: an index per shard, a manifest`,
  );
  // every variant file of the large-cache store, equal in the small-cache one (which also holds the warm-up)
  for (const [k, v] of b) assert.equal(a.get(k), v, `${k} differs`);
});
