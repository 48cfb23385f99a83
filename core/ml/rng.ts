import { sha256Hex } from '../hash';

/**
 * A small seeded PRNG (mulberry32) whose whole state is one uint32, so a checkpoint can store it and a
 * resumed run draws exactly the numbers the uninterrupted run would have drawn.
 */
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** A uint32 seed for one purpose of one run (e.g. `deriveSeed(seed, 'shuffle', epoch)`), stable across processes. */
export function deriveSeed(...parts: (string | number)[]): number {
  return parseInt(sha256Hex(parts.join('\u0000')).slice(0, 8), 16) >>> 0;
}
