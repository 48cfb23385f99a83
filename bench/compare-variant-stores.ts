/**
 * Compares two fs stores that ran the same study, one whose variants were stored as pixels (an older
 * bgstudy) and one that keeps only the pairing: every variant's samples (the stored raw shards, decoded
 * directly, against what openSampleSource computes), and every report's results.json, byte for byte.
 *
 * usage: npx tsx bench/compare-variant-stores.ts <store dir with pixels> <store dir with pairing only>
 */
import type { DataManifest, ManifestSplit } from '../core/data/manifest';
import { decodeRawShard } from '../core/data/raw-shard';
import type { Sample } from '../core/data/sample';
import { openSampleSource } from '../core/data/sample-source';
import { FsArtifactStore } from '../store/fs-store';
import { getJson } from '../store/json';

async function main(): Promise<void> {
  const [dirA, dirB] = process.argv.slice(2);
  if (!dirA || !dirB)
    throw new Error('usage: compare-variant-stores.ts <store with pixels> <store, pairing only>');
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
      if (JSON.stringify(ma.splits[split]!.items) !== JSON.stringify(mb.splits[split]!.items))
        throw new Error(`${key} ${split}: items differ`);
      const opened = await openSampleSource(b, key, split);
      const src: AsyncIterator<Sample> = opened.iterate()[Symbol.asyncIterator]();
      for (const shard of ma.splits[split]!.shards)
        for (const want of decodeRawShard(await a.get(shard.raw!), shard.raw)) {
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
      if (!(await src.next()).done) throw new Error(`${key} ${split}: more samples than stored`);
    }
  }
  const results = (await a.list('reports/')).filter((k) => k.endsWith('/results.json'));
  for (const k of results) if (!(await a.get(k)).equals(await b.get(k))) throw new Error(`${k} differs`);
  console.log(
    `${manifests.length} variants, ${images} images byte-identical; ${results.length} results.json byte-identical`,
  );
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
