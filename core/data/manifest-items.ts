import type { ArtifactStore } from '../../store/artifact-store';
import { getJson } from '../../store/json';
import { hashOf } from '../hash';
import type {
  DataManifest,
  GeneratedShard,
  ItemMeta,
  ManifestSplit,
  ShardIndex,
  ShardRef,
  SplitData,
} from './manifest';

/**
 * Per-item metadata (items, and a generated variant shard's donors) lives in each shard's index file
 * (`ShardRef.index`), read only when that shard is; manifests written before list every item (and donor) inline.
 * Both forms read the same way through here.
 */

/** The hash a manifest records of a shard's index file (`ShardRef.indexHash`). */
export function indexHashOf(index: ShardIndex): string {
  return hashOf(index);
}

/** What a manifest's reference to a shard keeps of its index: no per-item lists (the donors stay in the index). */
export function manifestRefOf(index: ShardIndex, key: string): ShardRef {
  const ref: ShardRef = { ...index.shard, index: key, indexHash: indexHashOf(index) };
  if (ref.generate?.donors) {
    const { donors: _inIndex, ...generate } = ref.generate;
    ref.generate = generate;
  }
  return ref;
}

async function readShardIndex(store: ArtifactStore, ref: ShardRef): Promise<ShardIndex> {
  if (!ref.index) throw new Error('a shard without items: neither inline in its manifest nor an index file');
  const index = await getJson<ShardIndex>(store, ref.index);
  if (!Array.isArray(index?.items) || index.items.length !== ref.count)
    throw new Error(
      `${ref.index}: ${Array.isArray(index?.items) ? index.items.length : 'no'} items, the manifest says ${ref.count}`,
    );
  if (ref.indexHash !== undefined && indexHashOf(index) !== ref.indexHash)
    throw new Error(`${ref.index}: does not match the manifest's hash of it (${ref.indexHash})`);
  return index;
}

/** The items of shard `shard` of a split, in stored order. */
export async function shardItems(store: ArtifactStore, data: SplitData, shard: number): Promise<ItemMeta[]> {
  const ref = data.shards[shard];
  if (!ref) throw new Error(`shard ${shard} out of range (${data.shards.length} shards)`);
  if (data.items) {
    const start = data.shards.slice(0, shard).reduce((n, s) => n + s.count, 0);
    return data.items.slice(start, start + ref.count);
  }
  return (await readShardIndex(store, ref)).items;
}

/** Every item of a split, shard by shard (one shard's items in memory at a time). */
export async function* splitItems(store: ArtifactStore, data: SplitData): AsyncGenerator<ItemMeta[]> {
  for (let i = 0; i < data.shards.length; i++) yield await shardItems(store, data, i);
}

/** Every item of a split at once: for readers that need them all (a report's sample picks, tests). */
export async function allItems(store: ArtifactStore, data: SplitData): Promise<ItemMeta[]> {
  if (data.items) return data.items;
  const out: ItemMeta[] = [];
  for await (const items of splitItems(store, data)) for (const it of items) out.push(it);
  return out;
}

/** Per class, the images of a split (recorded in the manifest; counted from the items in older ones). */
export async function classCounts(store: ArtifactStore, data: SplitData, classes: number): Promise<number[]> {
  if (data.classCounts) return data.classCounts;
  const counts = new Array<number>(classes).fill(0);
  for await (const items of splitItems(store, data))
    for (const it of items) if (it.label >= 0 && it.label < classes) counts[it.label]!++;
  return counts;
}

/** A manifest with every split's items filled in (older manifests already have them): for small readers. */
export type ManifestWithItems = DataManifest & {
  splits: Partial<Record<ManifestSplit, SplitData & { items: ItemMeta[] }>>;
};

export async function readManifestWithItems(store: ArtifactStore, key: string): Promise<ManifestWithItems> {
  const m = await getJson<DataManifest>(store, key);
  const splits: ManifestWithItems['splits'] = {};
  for (const [name, data] of Object.entries(m.splits) as [ManifestSplit, SplitData][])
    splits[name] = { ...data, items: await allItems(store, data) };
  return { ...m, splits };
}

/**
 * Shard indexes read on demand, the last `shards` kept: the items (boxes) of the images a variant stage reads
 * and a generated shard's donors, without every item of a split in memory.
 */
export class ShardIndexCache {
  private readonly map = new Map<string, ShardIndex>();
  private readonly starts = new Map<SplitData, number[]>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly shards = 64,
  ) {}

  /** The item at a split-wide index. */
  async itemAt(data: SplitData, index: number): Promise<ItemMeta> {
    const item = data.items
      ? data.items[index]
      : await (async () => {
          const shard = this.shardOf(data, index);
          return (await this.items(data, shard))[index - this.startsOf(data)[shard]!];
        })();
    if (!item) throw new Error(`item ${index} out of range (${data.count})`);
    return item;
  }

  /** The items of shard `shard` of a split. */
  async items(data: SplitData, shard: number): Promise<ItemMeta[]> {
    if (data.items) return shardItems(this.store, data, shard);
    return (await this.index(data.shards[shard]!)).items;
  }

  /** A generated shard's donors: in the manifest's reference (older manifests) or in the shard's index. */
  async generateOf(ref: ShardRef): Promise<GeneratedShard> {
    if (!ref.generate) throw new Error('not a generated shard');
    if (ref.generate.donors || !ref.index) return ref.generate;
    return (await this.index(ref)).shard.generate ?? ref.generate;
  }

  private async index(ref: ShardRef): Promise<ShardIndex> {
    const key = ref.index ?? '';
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const index = await readShardIndex(this.store, ref);
    if (this.map.size >= this.shards) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, index);
    return index;
  }

  private startsOf(data: SplitData): number[] {
    let starts = this.starts.get(data);
    if (!starts) {
      let n = 0;
      starts = data.shards.map((s) => ((n += s.count), n - s.count));
      this.starts.set(data, starts);
    }
    return starts;
  }

  private shardOf(data: SplitData, index: number): number {
    const starts = this.startsOf(data);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
