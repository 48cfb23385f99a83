import type { Rng } from './rng';

/**
 * Background families of the synthetic dataset. A family draws a pattern t(x, y) in [0, 1] that blends two
 * colours whose distance is the background contrast; keeping that contrast moderate is what lets a small CNN
 * see the object (STUDY.md: fully random high-contrast backgrounds drowned the shapes).
 */
export type Pattern = (x: number, y: number) => number;
type PatternMaker = (size: number, rng: Rng) => Pattern;

const stripes =
  (baseAngle: number, jitter: number): PatternMaker =>
  (size, rng) => {
    const a = baseAngle + rng.uniform(-jitter, jitter);
    const period = size * rng.uniform(0.12, 0.22);
    const phase = rng.uniform(0, 2 * Math.PI);
    const c = Math.cos(a);
    const s = Math.sin(a);
    return (x, y) => 0.5 + 0.5 * Math.sin(((x * c + y * s) / period) * 2 * Math.PI + phase);
  };

const checker: PatternMaker = (size, rng) => {
  const period = size * rng.uniform(0.18, 0.3);
  const ox = rng.uniform(0, period);
  const oy = rng.uniform(0, period);
  return (x, y) => (Math.floor((x + ox) / period) + Math.floor((y + oy) / period)) % 2;
};

const dots: PatternMaker = (size, rng) => {
  const period = size * rng.uniform(0.14, 0.22);
  const radius = period * rng.uniform(0.22, 0.32);
  const ox = rng.uniform(0, period);
  const oy = rng.uniform(0, period);
  return (x, y) => {
    const dx = ((x + ox) % period) - period / 2;
    const dy = ((y + oy) % period) - period / 2;
    return dx * dx + dy * dy <= radius * radius ? 1 : 0;
  };
};

const linearGradient: PatternMaker = (size, rng) => {
  const a = rng.uniform(0, 2 * Math.PI);
  const c = Math.cos(a);
  const s = Math.sin(a);
  const half = size / 2;
  return (x, y) => Math.min(1, Math.max(0, 0.5 + ((x - half) * c + (y - half) * s) / (size * 0.75)));
};

const radialGradient: PatternMaker = (size, rng) => {
  const cx = rng.uniform(0, size);
  const cy = rng.uniform(0, size);
  return (x, y) => Math.min(1, Math.hypot(x - cx, y - cy) / (size * 0.9));
};

function valueNoise(size: number, rng: Rng, cells: number): Pattern {
  const grid = Array.from({ length: (cells + 1) * (cells + 1) }, () => rng.next());
  const step = size / cells;
  return (x, y) => {
    const gx = x / step;
    const gy = y / step;
    const ix = Math.min(cells - 1, Math.floor(gx));
    const iy = Math.min(cells - 1, Math.floor(gy));
    const fx = gx - ix;
    const fy = gy - iy;
    const sx = fx * fx * (3 - 2 * fx);
    const sy = fy * fy * (3 - 2 * fy);
    const g = (i: number, j: number) => grid[j * (cells + 1) + i]!;
    const top = g(ix, iy) * (1 - sx) + g(ix + 1, iy) * sx;
    const bottom = g(ix, iy + 1) * (1 - sx) + g(ix + 1, iy + 1) * sx;
    return top * (1 - sy) + bottom * sy;
  };
}

const blobs: PatternMaker = (size, rng) => {
  const n = valueNoise(size, rng, 4);
  return (x, y) => (n(x, y) > 0.5 ? 1 : 0);
};

const grain: PatternMaker = (_size, rng) => {
  const seed = rng.int(2 ** 31);
  // hash noise, a pure function of (x, y): the same pixel gives the same value however the image is traversed
  return (x, y) => {
    let h = (Math.imul(x | 0, 374761393) + Math.imul(y | 0, 668265263) + seed) | 0;
    h = Math.imul(h ^ (h >>> 13), 1274126177);
    return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  };
};

const rings: PatternMaker = (size, rng) => {
  const cx = rng.uniform(0, size);
  const cy = rng.uniform(0, size);
  const period = size * rng.uniform(0.12, 0.2);
  return (x, y) => 0.5 + 0.5 * Math.sin((Math.hypot(x - cx, y - cy) / period) * 2 * Math.PI);
};

const waves: PatternMaker = (size, rng) => {
  const period = size * rng.uniform(0.14, 0.22);
  const amp = size * rng.uniform(0.05, 0.1);
  const lambda = size * rng.uniform(0.3, 0.5);
  return (x, y) =>
    0.5 + 0.5 * Math.sin(((y + amp * Math.sin((x / lambda) * 2 * Math.PI)) / period) * 2 * Math.PI);
};

const grid: PatternMaker = (size, rng) => {
  const period = size * rng.uniform(0.16, 0.26);
  const width = Math.max(1, period * 0.18);
  const ox = rng.uniform(0, period);
  const oy = rng.uniform(0, period);
  return (x, y) => ((x + ox) % period < width || (y + oy) % period < width ? 1 : 0);
};

const bricks: PatternMaker = (size, rng) => {
  const h = size * rng.uniform(0.1, 0.16);
  const w = h * 2.2;
  const mortar = Math.max(1, h * 0.2);
  return (x, y) => {
    const row = Math.floor(y / h);
    const xo = x + (row % 2 ? w / 2 : 0);
    return y % h < mortar || xo % w < mortar ? 1 : 0;
  };
};

/** Class-correlated families, in class order (class k's "own" family is index k). */
export const BG_FAMILIES: readonly { name: string; make: PatternMaker }[] = [
  { name: 'hstripes', make: stripes(0, 0.15) },
  { name: 'vstripes', make: stripes(Math.PI / 2, 0.15) },
  { name: 'checker', make: checker },
  { name: 'dots', make: dots },
  { name: 'linear_gradient', make: linearGradient },
  { name: 'radial_gradient', make: radialGradient },
  { name: 'blobs', make: blobs },
  { name: 'grain', make: grain },
  { name: 'rings', make: rings },
  { name: 'dstripes', make: stripes(Math.PI / 4, 0.15) },
  { name: 'waves', make: waves },
  { name: 'grid', make: grid },
];

/** The class-free pool of generic_bg: families no class ever gets. */
export const GENERIC_FAMILIES: readonly { name: string; make: PatternMaker }[] = [
  { name: 'bricks', make: bricks },
  { name: 'smooth_noise', make: (size, rng) => valueNoise(size, rng, 3) },
];

export type Rgb = [number, number, number];

/** Half-width of a family's hue band: bands of 12 families, 30 degrees apart, touch but do not overlap. */
const HUE_JITTER = 12;

/** The hue band (degrees) of background family k: like sky, grass or water, a colour cue of the context. */
export function familyHue(k: number): number {
  return (k * 360) / BG_FAMILIES.length;
}

export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6]!;
  return [r! * 255, g! * 255, b! * 255];
}

/**
 * Fills `rgb` (size*size*3) with a pattern blending two colours `contrast` apart (Euclidean RGB), plus
 * per-pixel noise of amplitude `noise`. Returns the mean colour actually drawn.
 */
export function drawBackground(
  rgb: Uint8Array,
  size: number,
  pattern: Pattern,
  rng: Rng,
  contrast: number,
  noise: number,
  /** Centre of the base colour's hue band in degrees; undefined: any colour. */
  hue?: number,
): Rgb {
  const c1: Rgb =
    hue === undefined
      ? [rng.uniform(40, 215), rng.uniform(40, 215), rng.uniform(40, 215)]
      : hsvToRgb(
          ((((hue + rng.uniform(-HUE_JITTER, HUE_JITTER)) % 360) + 360) % 360) / 360,
          rng.uniform(0.3, 0.65),
          rng.uniform(0.45, 0.85),
        );
  const dir = unitVector(rng);
  const c2: Rgb = [0, 1, 2].map((k) => clamp(c1[k]! + dir[k]! * contrast)) as Rgb;
  const sum = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = pattern(x + 0.5, y + 0.5);
      const o = (y * size + x) * 3;
      for (let k = 0; k < 3; k++) {
        const v = clamp(Math.round(c1[k]! * (1 - t) + c2[k]! * t + (rng.next() - 0.5) * 2 * noise));
        rgb[o + k] = v;
        sum[k]! += v;
      }
    }
  }
  const n = size * size;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

function unitVector(rng: Rng): Rgb {
  const v: Rgb = [rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(...v) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
}

export function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
