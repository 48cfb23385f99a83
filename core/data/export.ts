import type { ArtifactStore } from '../../store/artifact-store';
import { getJson, putJson } from '../../store/json';
import type { DataManifest, ManifestSplit, ShardIndex, ShardRef } from './manifest';
import { manifestRefOf, shardItems } from './manifest-items';
import { encodeRawShard, rawShardBytes } from './raw-shard';
import type { Sample } from './sample';
import { openSampleSource } from './sample-source';
import { encodeTarShard } from './tar-shard';

export interface ExportOptions {
  /** Splits to write (default: every split the manifest has). */
  splits?: ManifestSplit[];
  /** raw: lossless shards training reads; tar: WebDataset-style PNG + mask PNG + index.json. Default raw. */
  format?: 'raw' | 'tar';
  onShard?: (p: { split: ManifestSplit; shard: number; shards: number }) => void;
}

/**
 * Materializes a dataset or variant (a variant's pixels are otherwise computed when read) into `out`: one
 * shard per stored shard, then `manifest.json` naming them, so `out` is itself a store any reader opens
 * (`openSampleSource(new FsArtifactStore(dir), 'manifest.json', split)`). Writes are the store's (atomic).
 */
export async function exportManifest(
  store: ArtifactStore,
  manifestKey: string,
  out: ArtifactStore,
  options: ExportOptions = {},
): Promise<{ manifest: DataManifest; files: number }> {
  const manifest = await getJson<DataManifest>(store, manifestKey);
  const format = options.format ?? 'raw';
  const splits =
    options.splits ?? (Object.keys(manifest.splits) as ManifestSplit[]).filter((s) => manifest.splits[s]);
  const exported: DataManifest = { ...manifest, version: 2, generatedFrom: undefined, splits: {} };
  let files = 0;
  for (const split of splits) {
    const data = manifest.splits[split];
    if (!data)
      throw new Error(
        `${manifestKey} has no split "${split}" (has: ${Object.keys(manifest.splits).join(', ')})`,
      );
    const source = await openSampleSource(store, manifestKey, split);
    const it = source.iterate()[Symbol.asyncIterator]();
    const refs: ShardRef[] = [];
    let first = 0;
    const perClass = new Array<number>(manifest.classes.length).fill(0);
    for (const [i, shard] of data.shards.entries()) {
      const items = await shardItems(store, data, i);
      const samples: Sample[] = [];
      while (samples.length < shard.count) {
        const next = await it.next();
        if (next.done) throw new Error(`${manifestKey} ${split}: fewer samples than its shards list`);
        samples.push(next.value);
      }
      const name = `${split}-${String(i).padStart(5, '0')}`;
      const ref: ShardRef = { count: samples.length, bytes: rawShardBytes(samples) };
      if (format === 'raw') {
        ref.raw = `${name}.bgraw`;
        await out.put(ref.raw, await encodeRawShard(samples), { contentType: 'application/octet-stream' });
      } else {
        ref.tar = `${name}.tar`;
        await out.put(ref.tar, await encodeTarShard(samples, items, first), {
          contentType: 'application/x-tar',
        });
      }
      // the items go beside the shard, as in any store (core/data/manifest-items.ts)
      const index: ShardIndex = { shard: ref, items, skipped: [] };
      const indexKey = `${name}.index.json.gz`;
      await putJson(out, indexKey, index);
      files += 2;
      first += samples.length;
      for (const it of items) if (it.label >= 0 && it.label < perClass.length) perClass[it.label]!++;
      refs.push(manifestRefOf(index, indexKey));
      options.onShard?.({ split, shard: i + 1, shards: data.shards.length });
    }
    exported.splits[split] = {
      count: data.count,
      shards: refs,
      ...(split === 'generic' ? {} : { classCounts: perClass }),
    };
  }
  await putJson(out, 'manifest.json', exported);
  return { manifest: exported, files: files + 1 };
}
