import type { ArtifactStore } from '../../store/artifact-store';
import { getJson } from '../../store/json';
import type {
  BBox,
  DataManifest,
  GeneratedShard,
  ManifestSplit,
  ShardRef,
  SplitData,
} from '../data/manifest';
import { ShardIndexCache } from '../data/manifest-items';
import { readRawShard } from '../data/raw-shard';
import type { Sample } from '../data/sample';
import { ShardCache } from '../data/shard-cache';
import { boxMask } from '../masks/boxes';
import { readGrabCutBatch } from '../masks/grabcut-cache';
import type { RawImage } from './ops';
import { applyVariant, variantEntry } from './registry';
import { type VariantSpec, variantSpecSchema } from './variant-spec';

/**
 * Computes the pixels of a variant stored as a pairing only (shards with `generate`): the dataset's own shards
 * plus, per shard, the donors drawn and the GrabCut batch. The samples are byte-identical to what
 * materializeVariant used to store as raw shards (the same inputs to the same pure `applyVariant`).
 */
export class VariantGenerator {
  private readonly cache: ShardCache;
  /** The boxes of the sources and donors read, and each generated shard's donors (from the shards' indexes). */
  private readonly indexes: ShardIndexCache;
  private readonly sourceShards = new Map<string, ShardRef>();
  private readonly shardStart = new Map<string, number>();

  private constructor(
    private readonly store: ArtifactStore,
    readonly spec: VariantSpec,
    private readonly dataset: DataManifest,
    cacheBytes: number,
  ) {
    this.cache = new ShardCache(store, cacheBytes);
    this.indexes = new ShardIndexCache(store);
    for (const data of Object.values(dataset.splits)) {
      let n = 0;
      for (const s of data.shards) {
        if (s.raw) {
          this.sourceShards.set(s.raw, s);
          this.shardStart.set(s.raw, n);
        }
        n += s.count;
      }
    }
  }

  /**
   * `cacheBytes`: decoded dataset shards kept (sources and donors). Donors were drawn within windows of
   * consecutive shards (core/variants/pairing.ts), so a budget over one window reads each shard once per pass.
   */
  static async open(
    store: ArtifactStore,
    variant: DataManifest,
    cacheBytes: number,
  ): Promise<VariantGenerator> {
    if (!variant.generatedFrom) throw new Error(`variant ${variant.hash} is not generated when read`);
    const spec = variantSpecSchema.parse(variant.variant);
    const dataset = await getJson<DataManifest>(store, variant.generatedFrom);
    if (dataset.datasetHash !== variant.datasetHash)
      throw new Error(`${variant.generatedFrom} is not the dataset of variant ${variant.hash}`);
    return new VariantGenerator(store, spec, dataset, cacheBytes);
  }

  /** Every sample of one generated shard of `split`, in stored order. */
  async shard(split: ManifestSplit, shard: ShardRef): Promise<Sample[]> {
    const g = await this.generateOf(shard);
    const sources = await this.cache.get(this.sourceRef(g.source));
    const masks = g.grabcut ? await this.grabcutMasks(g.grabcut, sources, split, g.source) : undefined;
    const out: Sample[] = [];
    for (let j = 0; j < sources.length; j++) out.push(await this.one(split, g, j, sources[j]!, masks?.[j]));
    return out;
  }

  /** One generated shard sample by sample, from `skip` (memory: one source sample, plus the donors' shards). */
  async *stream(split: ManifestSplit, shard: ShardRef, skip: number): AsyncGenerator<Sample> {
    const g = await this.generateOf(shard);
    if (g.grabcut) {
      // a GrabCut batch is one object per shard: read it whole
      const all = await this.shard(split, shard);
      yield* all.slice(skip);
      return;
    }
    let j = 0;
    for await (const s of readRawShard(await this.store.getStream(g.source), g.source)) {
      if (j >= skip) yield await this.one(split, g, j, s);
      j++;
    }
  }

  private async one(
    split: ManifestSplit,
    g: GeneratedShard,
    j: number,
    source: Sample,
    grabcutMask?: Uint8Array,
  ): Promise<Sample> {
    const data = this.splitData(split);
    const src = toRaw(source, (await this.indexes.itemAt(data, this.shardStart.get(g.source)! + j)).bbox);
    let donor: RawImage | undefined;
    if (g.donors) {
      const donorSplit = this.donorSplit(split);
      const d = g.donors[j]!;
      donor = toRaw(
        await this.cache.sampleAt(donorSplit, d),
        (await this.indexes.itemAt(donorSplit, d)).bbox,
      );
    }
    const rgb = applyVariant(this.spec, grabcutMask ? { ...src, mask: grabcutMask } : src, donor);
    // the output's mask is the source's foreground (where the object is, or was), as materializeVariant stored it
    return {
      id: source.id,
      label: source.label,
      width: source.width,
      height: source.height,
      rgb,
      mask: src.mask,
    };
  }

  /** What computes a shard; a paired variant's donors are in the shard's index (older manifests: inline). */
  private async generateOf(shard: ShardRef): Promise<GeneratedShard> {
    if (!shard.generate) throw new Error('not a generated shard');
    if (variantEntry(this.spec.name).pairing === 'none') return shard.generate;
    const g = await this.indexes.generateOf(shard);
    if (!g.donors) throw new Error(`${shard.index ?? g.source}: a paired variant's shard without its donors`);
    return g;
  }

  private sourceRef(key: string): ShardRef {
    const ref = this.sourceShards.get(key);
    if (!ref) throw new Error(`source shard ${key} is not in dataset ${this.dataset.datasetHash}`);
    return ref;
  }

  private splitData(split: ManifestSplit): SplitData {
    const data = this.dataset.splits[split];
    if (!data) throw new Error(`dataset ${this.dataset.datasetHash} has no split "${split}"`);
    return data;
  }

  private donorSplit(split: ManifestSplit): SplitData {
    return this.splitData(variantEntry(this.spec.name).pairing === 'generic' ? 'generic' : split);
  }

  private async grabcutMasks(
    key: string,
    sources: Sample[],
    split: ManifestSplit,
    sourceKey: string,
  ): Promise<Uint8Array[]> {
    const start = this.shardStart.get(sourceKey)!;
    const data = this.splitData(split);
    const results = await readGrabCutBatch(this.store, key, sources);
    const out: Uint8Array[] = [];
    for (const [k, r] of results.entries())
      out.push(
        r.mask ??
          boxMask([(await this.indexes.itemAt(data, start + k)).bbox], sources[k]!.width, sources[k]!.height),
      );
    return out;
  }
}

/** The manifest holds each image's bbox; an image without a mask is all foreground. */
export function toRaw(s: Sample, bbox: BBox): RawImage {
  const mask = s.mask ?? new Uint8Array(s.width * s.height).fill(255);
  return { width: s.width, height: s.height, rgb: s.rgb, mask, bbox };
}
