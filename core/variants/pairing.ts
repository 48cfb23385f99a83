import type { ItemMeta } from '../data/manifest';
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
  items: ItemMeta[],
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
