import type { Sample, Split } from './sample';
import { Rng } from './rng';
import type { SyntheticSource } from './source-spec';
import { SHAPES } from './synthetic-shapes';
import {
  BG_FAMILIES,
  clamp,
  drawBackground,
  familyHue,
  GENERIC_FAMILIES,
  hsvToRgb,
  type Rgb,
} from './synthetic-backgrounds';

export interface SyntheticDraw {
  sample: Sample;
  /** Index into BG_FAMILIES of the background drawn (class k's own family is k). */
  bgFamily: number;
}

export function syntheticClassNames(spec: SyntheticSource): string[] {
  if (spec.classes > SHAPES.length)
    throw new Error(`synthetic: at most ${SHAPES.length} classes, got ${spec.classes}`);
  return SHAPES.slice(0, spec.classes).map((s) => s.name);
}

/** Units of a split, interleaved by class (unit u is class u mod K) so every shard holds every class. */
export function syntheticUnits(spec: SyntheticSource, split: Split): number {
  return spec.classes * spec.perClass[split];
}

/**
 * Draws image `unit` of a split: a pure function of (spec, split, unit), so any shard can be made alone
 * (resume) and the same seed always gives the same bytes.
 */
export function drawSynthetic(spec: SyntheticSource, split: Split, unit: number): SyntheticDraw {
  const K = spec.classes;
  const label = unit % K;
  const index = Math.floor(unit / K);
  const rng = Rng.derive('synthetic', spec.seed, split, unit);
  // p = bgCorrelation: with probability p the class's own family, otherwise a uniformly random one (which may
  // also be its own), so P(own) = p + (1 - p) / K and p = 0 makes family and class independent.
  const bgFamily = rng.next() < spec.bgCorrelation ? label : rng.int(K);
  const size = spec.size;
  const rgb = new Uint8Array(size * size * 3);
  const mask = new Uint8Array(size * size);
  const pattern = BG_FAMILIES[bgFamily]!.make(size, rng);
  const hue = rng.next() < spec.hueCue ? familyHue(bgFamily) : undefined;
  const bgMean = drawBackground(rgb, size, pattern, rng, spec.bgContrast, spec.bgNoise, hue);
  drawObject(rgb, mask, size, label, rng, spec, bgMean);
  const name = syntheticClassNames(spec)[label]!;
  return {
    sample: {
      id: `${split}/${String(label).padStart(2, '0')}_${name}/${String(index).padStart(6, '0')}`,
      label,
      width: size,
      height: size,
      rgb,
      mask,
    },
    bgFamily,
  };
}

/** Background `index` of the class-free generic pool (no object; the mask is empty). */
export function drawGenericBackground(spec: SyntheticSource, index: number): Sample {
  const rng = Rng.derive('synthetic-generic', spec.seed, index);
  const family = GENERIC_FAMILIES[rng.int(GENERIC_FAMILIES.length)]!;
  const size = spec.size;
  const rgb = new Uint8Array(size * size * 3);
  drawBackground(rgb, size, family.make(size, rng), rng, spec.bgContrast, spec.bgNoise);
  return {
    id: `generic/${family.name}/${String(index).padStart(6, '0')}`,
    label: -1,
    width: size,
    height: size,
    rgb,
    mask: new Uint8Array(size * size),
  };
}

function drawObject(
  rgb: Uint8Array,
  mask: Uint8Array,
  size: number,
  shape: number,
  rng: Rng,
  spec: SyntheticSource,
  bgMean: Rgb,
): void {
  const inside = SHAPES[shape]!.inside;
  const R = size * rng.uniform(spec.objectScale.min, spec.objectScale.max);
  const cx = rng.uniform(R, size - R);
  const cy = rng.uniform(R, size - R);
  const theta = (rng.uniform(-1, 1) * spec.maxRotation * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const color = objectColor(rng, bgMean, spec.minColorDistance);
  // a gentle linear shade across the object: some texture without hiding the silhouette
  const shade = rng.uniform(-0.15, 0.15);
  const x0 = Math.max(0, Math.floor(cx - R));
  const x1 = Math.min(size, Math.ceil(cx + R));
  const y0 = Math.max(0, Math.floor(cy - R));
  const y1 = Math.min(size, Math.ceil(cy + R));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (dx * cos + dy * sin) / R;
      const v = (-dx * sin + dy * cos) / R;
      if (!inside(u, v)) continue;
      const p = y * size + x;
      mask[p] = 255;
      const f = 1 + shade * u;
      for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.round(clamp(color[k]! * f));
    }
  }
}

/** A saturated random colour at least `minDistance` from the background mean (the farthest of 24 tries otherwise). */
function objectColor(rng: Rng, bgMean: Rgb, minDistance: number): Rgb {
  let best: Rgb = [0, 0, 0];
  let bestD = -1;
  for (let i = 0; i < 24; i++) {
    const c = hsvToRgb(rng.next(), rng.uniform(0.55, 1), rng.uniform(0.35, 1));
    const d = Math.hypot(c[0] - bgMean[0], c[1] - bgMean[1], c[2] - bgMean[2]);
    if (d >= minDistance) return c;
    if (d > bestD) [best, bestD] = [c, d];
  }
  return best;
}
