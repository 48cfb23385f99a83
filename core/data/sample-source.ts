import type { ArtifactStore } from '../../store/artifact-store';
import { getJson } from '../../store/json';
import { VariantGenerator } from '../variants/generated';
import type { DataManifest, ManifestSplit, ShardRef } from './manifest';
import { decodeRawShard, readRawShard } from './raw-shard';
import { Rng } from './rng';
import type { Sample, SampleSource } from './sample';

export interface OpenSampleSourceOptions {
  /**
   * Decoded shards kept in memory across epochs, and the span a seeded shuffle mixes over (shards are shuffled,
   * then samples within each group of shards that fits this budget). Default 512 MiB: small datasets are fully
   * shuffled and read from the store once. A shard larger than the budget is streamed sample by sample (in its
   * stored order, also when shuffling), so memory stays within the budget whatever the shard size.
   */
  cacheBytes?: number;
  /**
   * A variant computed when read: the dataset's decoded shards kept for its sources and donors, on top of
   * `cacheBytes` (which then holds computed samples). Default 640 MiB: over one pairing window (512 MiB).
   */
  sourceCacheBytes?: number;
}

export interface OpenedSampleSource extends SampleSource {
  readonly manifest: DataManifest;
  readonly split: ManifestSplit;
}

/** A split of a dataset or a variant (any manifest written by core/data or core/variants), read from its raw shards. */
export async function openSampleSource(
  store: ArtifactStore,
  manifestKey: string,
  split: ManifestSplit,
  options: OpenSampleSourceOptions = {},
): Promise<OpenedSampleSource> {
  const manifest = await getJson<DataManifest>(store, manifestKey);
  const data = manifest.splits[split];
  if (!data)
    throw new Error(
      `${manifestKey} has no split "${split}" (has: ${Object.keys(manifest.splits).join(', ')})`,
    );
  const generator = manifest.generatedFrom
    ? await VariantGenerator.open(store, manifest, options.sourceCacheBytes ?? 640 * 1024 * 1024)
    : undefined;
  return new ShardedSampleSource(
    store,
    manifest,
    split,
    data.shards,
    options.cacheBytes ?? 512 * 1024 * 1024,
    generator,
  );
}

class ShardedSampleSource implements OpenedSampleSource {
  readonly classes: string[];
  /** Decoded (or computed) shards, least recently used first. */
  private readonly cache = new Map<ShardRef, Sample[]>();
  private cachedBytes = 0;

  constructor(
    private readonly store: ArtifactStore,
    readonly manifest: DataManifest,
    readonly split: ManifestSplit,
    private readonly shards: ShardRef[],
    private readonly cacheBytes: number,
    private readonly generator?: VariantGenerator,
  ) {
    this.classes = manifest.classes;
  }

  count(): number {
    return this.shards.reduce((n, s) => n + s.count, 0);
  }

  async *iterate(options: { shuffleSeed?: number; skip?: number } = {}): AsyncIterable<Sample> {
    let skip = Math.max(0, options.skip ?? 0);
    if (options.shuffleSeed === undefined) {
      for (const shard of this.shards) {
        if (skip >= shard.count) {
          skip -= shard.count;
          continue;
        }
        if (shard.bytes > this.cacheBytes) yield* this.stream(shard, skip);
        else {
          const samples = await this.load(shard);
          for (let i = skip; i < samples.length; i++) yield samples[i]!;
        }
        skip = 0;
      }
      return;
    }
    const rng = new Rng(options.shuffleSeed);
    const order = rng.shuffle(this.shards.map((_, i) => i));
    // groups of consecutive (shuffled) shards that fit the budget; the same seed always gives the same groups
    const groups: number[][] = [];
    let bytes = Infinity;
    for (const i of order) {
      if (bytes + this.shards[i]!.bytes > this.cacheBytes) {
        groups.push([]);
        bytes = 0;
      }
      groups[groups.length - 1]!.push(i);
      bytes += this.shards[i]!.bytes;
    }
    for (const group of groups) {
      const n = group.reduce((s, i) => s + this.shards[i]!.count, 0);
      // draw the permutation even for skipped groups, so positions do not depend on `skip`
      const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      if (skip >= n) {
        skip -= n;
        continue;
      }
      const only = this.shards[group[0]!]!;
      if (group.length === 1 && only.bytes > this.cacheBytes) {
        // a shard over the memory budget cannot be shuffled in memory: it streams in stored order
        yield* this.stream(only, skip);
        skip = 0;
        continue;
      }
      const samples: Sample[] = [];
      for (const i of group) samples.push(...(await this.load(this.shards[i]!)));
      for (let k = skip; k < n; k++) yield samples[perm[k]!]!;
      skip = 0;
    }
  }

  /** A shard over the budget, read sample by sample and never cached (memory: one sample). */
  private async *stream(shard: ShardRef, skip: number): AsyncGenerator<Sample> {
    if (shard.generate) {
      yield* this.generatorOf().stream(this.split, shard, skip);
      return;
    }
    const key = this.rawKey(shard);
    let i = 0;
    for await (const s of readRawShard(await this.store.getStream(key), key)) if (i++ >= skip) yield s;
  }

  private async load(shard: ShardRef): Promise<Sample[]> {
    const hit = this.cache.get(shard);
    if (hit) {
      this.cache.delete(shard);
      this.cache.set(shard, hit);
      return hit;
    }
    const samples = shard.generate
      ? await this.generatorOf().shard(this.split, shard)
      : await decodeRawShard(await this.store.get(this.rawKey(shard)), shard.raw);
    if (shard.bytes <= this.cacheBytes) {
      while (this.cachedBytes + shard.bytes > this.cacheBytes && this.cache.size > 0) {
        const [old] = this.cache.keys();
        this.cache.delete(old!);
        this.cachedBytes -= old!.bytes;
      }
      this.cache.set(shard, samples);
      this.cachedBytes += shard.bytes;
    }
    return samples;
  }

  private rawKey(shard: ShardRef): string {
    if (!shard.raw) throw new Error(`${this.manifest.hash}: a shard of split ${this.split} has no raw key`);
    return shard.raw;
  }

  private generatorOf(): VariantGenerator {
    if (!this.generator)
      throw new Error(
        `${this.manifest.hash}: generated shards, but the manifest names no dataset (generatedFrom)`,
      );
    return this.generator;
  }
}
