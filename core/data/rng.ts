import { createHash } from 'node:crypto';
import { sha256Hex } from '../hash';

/**
 * Seeded PRNG (mulberry32): small, fast, and the same sequence on every platform. Every random choice in
 * datasets, variants and training goes through one of these, never Math.random, so outputs are reproducible
 * byte for byte. Its whole state is one uint32, so a training checkpoint stores it and a resumed run draws
 * exactly the numbers the uninterrupted run would have drawn.
 */
export class Rng {
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A generator for one named stream, e.g. `Rng.derive(seed, 'train', 3, 17)`: independent of call order. */
  static derive(...parts: (string | number)[]): Rng {
    const digest = createHash('sha256').update(parts.join('\u0000')).digest();
    return new Rng(digest.readUInt32LE(0));
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi] inclusive. */
  intIn(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/**
 * A uint32 seed for one purpose of one training run (e.g. `deriveSeed(seed, 'shuffle', epoch)`), stable across
 * processes. Not `Rng.derive`'s seed: this one reads the digest's first four bytes big-endian (kept so that
 * training draws stay what they were).
 */
export function deriveSeed(...parts: (string | number)[]): number {
  return parseInt(sha256Hex(parts.join('\u0000')).slice(0, 8), 16) >>> 0;
}
