import type { ShardRef, SplitData } from '../data/manifest';
import { Rng } from '../data/rng';
import type { VariantName } from './variant-spec';

/**
 * For each item, the index of the image whose background it gets:
 * - mixed_same: another image of the same class (itself only when it is its class's only image);
 * - mixed_rand: a uniformly random class, then a random image of it (Xiao et al.);
 * - mixed_next: a random image of class (y + 1) mod K;
 * - generic_bg: a random image of the class-free pool (`poolSize` images).
 * Drawn from one seeded stream per (seed, variant, split), in item order, so a variant set is reproducible.
 */
export function drawPairing(
  name: VariantName,
  items: { label: number }[],
  numClasses: number,
  seed: number,
  split: string,
  poolSize = 0,
): number[] {
  const rng = Rng.derive('pairing', seed, name, split);
  if (name === 'generic_bg') {
    if (poolSize <= 0)
      throw new Error(
        'generic_bg needs a background pool: the dataset has no "generic" split (set genericCount or genericPath)',
      );
    return items.map(() => rng.int(poolSize));
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  items.forEach((it, i) => byClass[it.label]!.push(i));
  const nonEmpty = byClass.map((_, c) => c).filter((c) => byClass[c]!.length > 0);
  return items.map((it, i) => {
    switch (name) {
      case 'mixed_same': {
        const same = byClass[it.label]!;
        if (same.length === 1) return i;
        let j = same[rng.int(same.length - 1)]!;
        if (j === i) j = same[same.length - 1]!;
        return j;
      }
      case 'mixed_rand':
        return rng.pick(byClass[rng.pick(nonEmpty)]!);
      case 'mixed_next': {
        const next = byClass[(it.label + 1) % numClasses]!;
        if (next.length === 0)
          throw new Error(`mixed_next: class ${(it.label + 1) % numClasses} has no images in split ${split}`);
        return rng.pick(next);
      }
      default:
        throw new Error(`variant ${name} has no pairing`);
    }
  });
}

/**
 * The pairing window of every stored variant (what materializeVariant's default cache of 1 GiB gave before the
 * window had a name of its own): changing it changes every paired variant's donors under the same key.
 */
export const PAIRING_WINDOW_BYTES = 512 * 2 ** 20;

/** Consecutive groups of shards whose raw bytes fit `windowBytes` (at least one shard each). */
export function shardWindows(shards: ShardRef[], windowBytes: number): number[][] {
  const windows: number[][] = [];
  let bytes = Infinity;
  shards.forEach((s, i) => {
    if (bytes + s.bytes > windowBytes) {
      windows.push([]);
      bytes = 0;
    }
    windows[windows.length - 1]!.push(i);
    bytes += s.bytes;
  });
  return windows;
}

/**
 * drawPairing over a split too big to hold in memory: donors are drawn within a window of consecutive shards
 * (every shard holds every class, so a donor is still a random image of the required class), and the variant
 * is generated window by window, each window read once. A split that fits one window pairs over all of it.
 * Returns, per item of `data`, the index of its donor in `donors` (data itself, or the generic pool).
 */
export function windowedPairing(
  name: VariantName,
  data: SplitData,
  /** The label of every item of `data`, in order. */
  labels: number[],
  donors: SplitData | undefined,
  numClasses: number,
  seed: number,
  split: string,
  windowBytes: number,
): number[] {
  const starts = (shards: ShardRef[]) => {
    let n = 0;
    return shards.map((s) => ((n += s.count), n - s.count));
  };
  const windows = shardWindows(data.shards, windowBytes);
  const dataStarts = starts(data.shards);
  const itemsOf = (split: SplitData, shardIdx: number[], st: number[]) =>
    shardIdx.flatMap((i) => Array.from({ length: split.shards[i]!.count }, (_, k) => st[i]! + k));
  const out = new Array<number>(data.count);
  const poolWindows = name === 'generic_bg' && donors ? shardWindows(donors.shards, windowBytes) : [];
  const poolStarts = donors ? starts(donors.shards) : [];
  windows.forEach((w, k) => {
    const targets = itemsOf(data, w, dataStarts);
    const key = windows.length === 1 ? split : `${split}/window-${k}`;
    if (name === 'generic_bg') {
      const pool = poolWindows.length
        ? itemsOf(donors!, poolWindows[k % poolWindows.length]!, poolStarts)
        : [];
      const local = drawPairing(
        name,
        targets.map((t) => ({ label: labels[t]! })),
        numClasses,
        seed,
        key,
        pool.length,
      );
      local.forEach((j, i) => (out[targets[i]!] = pool[j]!));
    } else {
      const local = drawPairing(
        name,
        targets.map((t) => ({ label: labels[t]! })),
        numClasses,
        seed,
        key,
      );
      local.forEach((j, i) => (out[targets[i]!] = targets[j]!));
    }
  });
  return out;
}
