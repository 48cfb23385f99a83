import type { ArtifactStore } from '../../store/artifact-store';
import type { ShardRef, SplitData } from './manifest';
import { decodeRawShard } from './raw-shard';
import type { Sample } from './sample';

/** Decoded raw shards by key, least recently used evicted past a byte budget (one shard is always kept). */
export class ShardCache {
  private readonly map = new Map<string, { samples: Sample[]; bytes: number }>();
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
    const samples = decodeRawShard(await this.store.get(key), key);
    while (this.bytes + shard.bytes > this.budget && this.map.size > 0) {
      const [k, v] = this.map.entries().next().value as [string, { bytes: number }];
      this.map.delete(k);
      this.bytes -= v.bytes;
    }
    this.map.set(key, { samples, bytes: shard.bytes });
    this.bytes += shard.bytes;
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
}
