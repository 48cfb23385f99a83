/**
 * Compares two fs stores that ran the same study with different bgstudy versions: every variant's items (inline
 * in older manifests or in each shard's index) and samples (stored raw shards decoded directly where the older
 * store kept pixels, otherwise computed by openSampleSource on both sides), and every report's results.json,
 * byte for byte.
 *
 * usage: npx tsx bench/compare-variant-stores.ts <older store dir> <newer store dir>
 */
import type { DataManifest, ManifestSplit, SplitData } from '../core/data/manifest';
import { allItems } from '../core/data/manifest-items';
import { decodeRawShard } from '../core/data/raw-shard';
import type { Sample } from '../core/data/sample';
import { openSampleSource } from '../core/data/sample-source';
import type { ArtifactStore } from '../store/artifact-store';
import { FsArtifactStore } from '../store/fs-store';
import { getJson } from '../store/json';

/** A split's samples in stored order: its raw shards where it has them, else computed when read. */
async function* samplesOf(store: ArtifactStore, key: string, split: ManifestSplit, data: SplitData) {
  if (data.shards.every((s) => s.raw)) {
    for (const shard of data.shards) yield* await decodeRawShard(await store.get(shard.raw!), shard.raw);
    return;
  }
  yield* (await openSampleSource(store, key, split)).iterate();
}

async function main(): Promise<void> {
  const [dirA, dirB] = process.argv.slice(2);
  if (!dirA || !dirB) throw new Error('usage: compare-variant-stores.ts <older store> <newer store>');
  const a = new FsArtifactStore(dirA);
  const b = new FsArtifactStore(dirB);
  const manifests = (await a.list('variants/')).filter((k) => k.endsWith('/manifest.json'));
  const missing = (await b.list('variants/')).filter(
    (k) => k.endsWith('/manifest.json') && !manifests.includes(k),
  );
  if (missing.length) throw new Error(`only in ${dirB}: ${missing.join(', ')}`);
  let images = 0;
  for (const key of manifests) {
    const ma = await getJson<DataManifest>(a, key);
    const mb = await getJson<DataManifest>(b, key);
    if (!mb.generatedFrom) throw new Error(`${key}: not kept as a pairing in ${dirB}`);
    for (const split of Object.keys(ma.splits) as ManifestSplit[]) {
      const da = ma.splits[split]!;
      const db = mb.splits[split];
      if (!db) throw new Error(`${key}: no split ${split} in ${dirB}`);
      if (JSON.stringify(await allItems(a, da)) !== JSON.stringify(await allItems(b, db)))
        throw new Error(`${key} ${split}: items differ`);
      const src: AsyncIterator<Sample> = samplesOf(b, key, split, db)[Symbol.asyncIterator]();
      for await (const want of samplesOf(a, key, split, da)) {
        const next = await src.next();
        const got = next.done ? undefined : next.value;
        if (
          !got ||
          got.id !== want.id ||
          got.label !== want.label ||
          !Buffer.from(got.rgb).equals(Buffer.from(want.rgb)) ||
          !Buffer.from(got.mask!).equals(Buffer.from(want.mask!))
        )
          throw new Error(`${key} ${split}: ${want.id} differs`);
        images++;
      }
      if (!(await src.next()).done) throw new Error(`${key} ${split}: more samples in ${dirB}`);
    }
  }
  // datasets: the same items and the same raw shards, byte for byte
  const datasets = (await a.list('datasets/')).filter((k) => k.endsWith('/manifest.json'));
  for (const key of datasets) {
    const ma = await getJson<DataManifest>(a, key);
    const mb = await getJson<DataManifest>(b, key);
    for (const split of Object.keys(ma.splits) as ManifestSplit[]) {
      const da = ma.splits[split]!;
      const db = mb.splits[split]!;
      if (JSON.stringify(await allItems(a, da)) !== JSON.stringify(await allItems(b, db)))
        throw new Error(`${key} ${split}: items differ`);
      for (const [i, shard] of da.shards.entries())
        if (!(await a.get(shard.raw!)).equals(await b.get(db.shards[i]!.raw!)))
          throw new Error(`${shard.raw} differs`);
    }
  }
  const results = (await a.list('reports/')).filter((k) => k.endsWith('/results.json'));
  for (const k of results) if (!(await a.get(k)).equals(await b.get(k))) throw new Error(`${k} differs`);
  console.log(
    `${datasets.length} datasets (items, raw shards) and ${manifests.length} variants (items, ${images} images) ` +
      `identical; ${results.length} results.json byte-identical`,
  );
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
