import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataManifest, ManifestSplit, ShardIndex, ShardRef, SplitData } from '../../core/data/manifest';
import { allItems, classCounts, readManifestWithItems } from '../../core/data/manifest-items';
import { prepareDataset } from '../../core/data/prepare';
import type { Sample } from '../../core/data/sample';
import { openSampleSource } from '../../core/data/sample-source';
import { materializeVariant } from '../../core/variants/materialize';
import { FsArtifactStore } from '../../store/fs-store';
import { getJson, putJson } from '../../store/json';
import { tempDir } from '../helpers/env';

const SOURCE = {
  source: 'synthetic',
  classes: 3,
  perClass: { train: 20, val: 6 },
  size: 16,
  seed: 11,
  genericCount: 20,
} as const;
const SHARD = 12;

async function collect(it: AsyncIterable<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of it) out.push(s);
  return out;
}

/** A shard's reference as manifests had it before: no index, its donors inline (as its index has them). */
async function oldRef(store: FsArtifactStore, ref: ShardRef): Promise<ShardRef> {
  const { index, indexHash: _h, ...rest } = ref;
  return (await getJson<ShardIndex>(store, index!)).shard ?? rest;
}

/** A manifest as bgstudy wrote them before items moved to the shards' index files: every item inline. */
async function asOldManifest(store: FsArtifactStore, key: string): Promise<void> {
  const m = await getJson<DataManifest>(store, key);
  const splits: DataManifest['splits'] = {};
  for (const [name, data] of Object.entries(m.splits) as [ManifestSplit, SplitData][])
    splits[name] = {
      count: data.count,
      shards: await Promise.all(data.shards.map(async (ref) => oldRef(store, ref))),
      items: await allItems(store, data),
    };
  await putJson(store, key, { ...m, version: 1, splits });
}

async function copyStore(from: FsArtifactStore, to: FsArtifactStore): Promise<void> {
  for (const k of await from.list('')) await to.put(k, await from.get(k));
}

test('manifests keep no items (each shard index has them, pinned by hash); per-class counts are recorded', async () => {
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(store, SOURCE, { shardSize: SHARD, tar: false });
  const m = await getJson<DataManifest>(store, ds.manifestKey);
  assert.equal(m.version, 2);
  for (const data of Object.values(m.splits)) {
    assert.equal(data.items, undefined);
    for (const ref of data.shards) {
      const index = await getJson<{ items: { id: string }[] }>(store, ref.index!);
      assert.equal(index.items.length, ref.count);
      assert.match(ref.indexHash!, /^[0-9a-f]{16}$/);
    }
  }
  const train = await allItems(store, m.splits.train!);
  assert.equal(train.length, 60);
  const counted = [0, 0, 0];
  for (const it of train) counted[it.label]!++;
  assert.deepEqual(m.splits.train!.classCounts, counted);
  assert.deepEqual(counted, [20, 20, 20]);
  assert.equal(m.splits.generic!.classCounts, undefined);
  // the ids the reader yields are the items', in order
  const samples = await collect((await openSampleSource(store, ds.manifestKey, 'train')).iterate());
  assert.deepEqual(
    samples.map((s) => s.id),
    train.map((it) => it.id),
  );

  // an index whose items were changed is refused by name
  const ref = m.splits.val!.shards[0]!;
  const index = await getJson<{ items: { bbox: number[] }[] }>(store, ref.index!);
  index.items[0]!.bbox = [0, 0, 1, 1];
  await putJson(store, ref.index!, index);
  await assert.rejects(
    allItems(store, m.splits.val!),
    new RegExp(`${ref.index}: does not match the manifest`),
  );
});

test('manifests with every item inline (written before) read the same: items, counts, samples, and new variants of them', async () => {
  const now = new FsArtifactStore(await tempDir());
  const before = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(now, SOURCE, { shardSize: SHARD, tar: false });
  const made = [];
  for (const variant of ['mixed_rand', 'only_bg_t', 'generic_bg'] as const)
    made.push(await materializeVariant(now, { datasetManifestKey: ds.manifestKey, variant, seed: 5 }));
  await copyStore(now, before);
  for (const key of [ds.manifestKey, ...made.map((v) => v.manifestKey)]) await asOldManifest(before, key);
  assert.ok((await before.get(ds.manifestKey)).length > 4 * (await now.get(ds.manifestKey)).length);

  for (const key of [ds.manifestKey, ...made.map((v) => v.manifestKey)]) {
    const a = await readManifestWithItems(before, key);
    const b = await readManifestWithItems(now, key);
    assert.equal(a.version, 1);
    for (const split of Object.keys(a.splits) as ManifestSplit[]) {
      assert.deepEqual(b.splits[split]!.items, a.splits[split]!.items, `${key} ${split}: items`);
      assert.deepEqual(
        await classCounts(before, a.splits[split]!, 3),
        await classCounts(now, b.splits[split]!, 3),
      );
      const sa = await collect((await openSampleSource(before, key, split)).iterate({ shuffleSeed: 2 }));
      const sb = await collect((await openSampleSource(now, key, split)).iterate({ shuffleSeed: 2 }));
      assert.equal(sa.length, sb.length);
      sa.forEach((s, i) => {
        assert.equal(s.id, sb[i]!.id);
        assert.ok(Buffer.from(s.rgb).equals(Buffer.from(sb[i]!.rgb)), `${key} ${split} ${s.id}: pixels`);
      });
    }
  }
  // a variant made now of a dataset whose manifest lists its items inline: the same index files as of a new one
  const fresh = await materializeVariant(before, {
    datasetManifestKey: ds.manifestKey,
    variant: 'mixed_same',
    seed: 5,
  });
  const again = await materializeVariant(now, {
    datasetManifestKey: ds.manifestKey,
    variant: 'mixed_same',
    seed: 5,
  });
  assert.equal(fresh.manifestKey, again.manifestKey);
  const prefix = fresh.manifestKey.replace(/manifest\.json$/, '');
  const files = await now.list(prefix);
  assert.ok(files.length > 3);
  for (const k of files) assert.ok((await before.get(k)).equals(await now.get(k)), `${k} differs`);
});
