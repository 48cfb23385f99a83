import type { Sample, SampleSource } from '../../core/data/sample';
import { Rng } from '../../core/data/rng';

/** A SampleSource over samples held in memory (for tests of the consumers; real sources stream from the store). */
export function memorySource(samples: Sample[], classes: string[]): SampleSource {
  return {
    classes,
    count: () => samples.length,
    async *iterate(options = {}) {
      const order = samples.map((_, i) => i);
      if (options.shuffleSeed !== undefined) {
        const rng = new Rng(options.shuffleSeed);
        for (let i = order.length - 1; i > 0; i--) {
          const j = rng.intIn(0, i);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      for (const i of order.slice(options.skip ?? 0)) yield samples[i]!;
    },
  };
}

/**
 * Tiny two-part images: a square "object" (255 in mask) whose colour channel is the class, on a background
 * whose brightness is noise. Enough signal for a small CNN to learn in a few steps.
 */
export function toySamples(
  n: number,
  size: number,
  numClasses: number,
  seed: number,
  prefix = 's',
): Sample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % numClasses;
    const rgb = new Uint8Array(size * size * 3);
    const mask = new Uint8Array(size * size);
    const x0 = rng.intIn(0, size / 2);
    const y0 = rng.intIn(0, size / 2);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = y * size + x;
        const inside = x >= x0 && x < x0 + size / 2 && y >= y0 && y < y0 + size / 2;
        mask[p] = inside ? 255 : 0;
        for (let c = 0; c < 3; c++)
          rgb[p * 3 + c] = inside ? (c === label % 3 ? 230 : 20) : rng.intIn(60, 140);
      }
    }
    return { id: `${prefix}${i}`, label, width: size, height: size, rgb, mask };
  });
}
