import type { ArtifactStore } from '../../store/artifact-store';
import type { ShardRef, SplitData } from './manifest';
import { decodeRawShard } from './raw-shard';
import type { Sample } from './sample';

/**
 * Decoded raw shards by key, least recently used evicted past a byte budget (one shard is always kept).
 * Concurrent readers of one shard share one read.
 */
export class ShardCache {
  private readonly map = new Map<string, { samples: Sample[]; bytes: number }>();
  private readonly loading = new Map<string, Promise<Sample[]>>();
  private bytes = 0;

  constructor(
    private readonly store: ArtifactStore,
    private readonly budget: number,
  ) {}

  async get(shard: ShardRef): Promise<Sample[]> {
    const key = shard.raw;
    if (!key) throw new Error('ShardCache reads stored raw shards only (this shard is generated when read)');
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit.samples;
    }
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.load(key, shard.bytes).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  /** Drops every decoded shard (reads in flight finish and are cached). */
  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  has(shard: ShardRef): boolean {
    return shard.raw !== undefined && this.map.has(shard.raw);
  }

  private async load(key: string, bytes: number): Promise<Sample[]> {
    const samples = await decodeRawShard(await this.store.get(key), key);
    while (this.bytes + bytes > this.budget && this.map.size > 0) {
      const [k, v] = this.map.entries().next().value as [string, { bytes: number }];
      this.map.delete(k);
      this.bytes -= v.bytes;
    }
    this.map.set(key, { samples, bytes });
    this.bytes += bytes;
    return samples;
  }

  /** The sample at a split-wide index. */
  async sampleAt(split: SplitData, index: number): Promise<Sample> {
    let i = index;
    for (const shard of split.shards) {
      if (i < shard.count) return (await this.get(shard))[i]!;
      i -= shard.count;
    }
    throw new Error(`sample index ${index} out of range (${split.count})`);
  }

  /**
   * Copies of the samples at split-wide `indexes`, each shard read at most once (those in the cache first): the
   * copies own their bytes, so a caller holding them does not keep whole shards alive past the cache's budget.
   */
  async samplesAt(split: SplitData, indexes: Iterable<number>): Promise<Map<number, Sample>> {
    const byShard = new Map<number, number[]>();
    const starts: number[] = [];
    let n = 0;
    for (const s of split.shards) starts.push((n += s.count) - s.count);
    for (const index of indexes) {
      if (!Number.isInteger(index) || index < 0 || index >= n)
        throw new Error(`sample index ${index} out of range (${n})`);
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= index) lo = mid;
        else hi = mid - 1;
      }
      const list = byShard.get(lo);
      if (list) list.push(index);
      else byShard.set(lo, [index]);
    }
    const order = [...byShard.keys()].sort(
      (a, b) => Number(this.has(split.shards[b]!)) - Number(this.has(split.shards[a]!)) || a - b,
    );
    const out = new Map<number, Sample>();
    for (const s of order) {
      const samples = await this.get(split.shards[s]!);
      for (const index of byShard.get(s)!) {
        if (out.has(index)) continue;
        const x = samples[index - starts[s]!]!;
        out.set(index, { ...x, rgb: x.rgb.slice(), ...(x.mask ? { mask: x.mask.slice() } : {}) });
      }
    }
    return out;
  }
}
