import type { Sample, Split } from './sample';
import { Rng } from './rng';
import type { SyntheticSource } from './source-spec';
import { type Box, drawDistractor, drawShadow } from './synthetic-factors';
import { fitShape } from './synthetic-box';
import { SHAPES, type ShapeTest } from './synthetic-shapes';
import {
  BG_FAMILIES,
  clamp,
  drawBackground,
  familyHue,
  GENERIC_FAMILIES,
  hsvToRgb,
  type Rgb,
} from './synthetic-backgrounds';

/**
 * Bump when the same spec would draw different images (it keys the dataset, core/data/synthetic-plan.ts).
 * synthetic-2: boxes drawn from one distribution for every class (leak-free at p=0); class-dependent factors.
 */
export const SYNTHETIC_GENERATOR_VERSION = 'synthetic-2';

export interface SyntheticDraw {
  sample: Sample;
  /** Index into BG_FAMILIES of the background drawn (class k's own family is k). */
  bgFamily: number;
  /** Whether the class's co-occurring object (the distractor factor) was drawn. */
  distractor: boolean;
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
  const box = drawBox(size, label, rng, spec, split, unit);
  const theta = (rng.uniform(-1, 1) * spec.maxRotation * Math.PI) / 180;
  const shape = SHAPES[label]!.inside;
  // class-dependent factors: each from its own stream, so one knob never changes another's draws
  const { shadow, distractor } = spec.factors;
  const shadowRng = Rng.derive('synthetic-shadow', spec.seed, split, unit);
  if (shadowRng.next() < shadow)
    drawShadow(rgb, size, label, K, box, (dx, dy) =>
      fitShape(shape, theta, { ...box, x0: box.x0 + dx, y0: box.y0 + dy }),
    );
  const distractorRng = Rng.derive('synthetic-distractor', spec.seed, split, unit);
  const distracted =
    distractorRng.next() < distractor && drawDistractor(rgb, size, label, K, box, distractorRng);
  drawObject(rgb, mask, size, shape, box, theta, rng, spec, bgMean);
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
    distractor: distracted,
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

/** The range of object half-sides the class-size factor spreads the classes over (class k: band k of K). */
const CLASS_SIZE_RANGE = [0.14, 0.46] as const;

/**
 * The object's box: half-side (a share of the image side), aspect and position drawn from one distribution
 * for every class, unless the class-size factor is on for this image (then the half-side comes from its
 * class's band of CLASS_SIZE_RANGE).
 */
function drawBox(
  size: number,
  label: number,
  rng: Rng,
  spec: SyntheticSource,
  split: Split,
  unit: number,
): Box {
  const own = Rng.derive('synthetic-class-size', spec.seed, split, unit);
  const [lo, hi] = CLASS_SIZE_RANGE;
  const half =
    own.next() < spec.factors.classSize
      ? lo + ((hi - lo) * (label + own.next())) / spec.classes
      : rng.uniform(spec.objectScale.min, spec.objectScale.max);
  const side = 2 * half * size;
  const aspect = Math.exp(rng.uniform(-1, 1) * Math.log(spec.maxAspect));
  const w = Math.min(size, Math.max(3, Math.round(side * Math.sqrt(aspect))));
  const h = Math.min(size, Math.max(3, Math.round(side / Math.sqrt(aspect))));
  return { x0: rng.int(size - w + 1), y0: rng.int(size - h + 1), w, h };
}

function drawObject(
  rgb: Uint8Array,
  mask: Uint8Array,
  size: number,
  shape: ShapeTest,
  box: Box,
  theta: number,
  rng: Rng,
  spec: SyntheticSource,
  bgMean: Rgb,
): void {
  const fit = fitShape(shape, theta, box);
  const color = objectColor(rng, bgMean, spec.minColorDistance);
  // a gentle linear shade across the object: some texture without hiding the silhouette
  const shade = rng.uniform(-0.15, 0.15);
  const paint = (x: number, y: number) => {
    const p = y * size + x;
    mask[p] = 255;
    const f = 1 + shade * fit.u(x + 0.5, y + 0.5);
    for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.round(clamp(color[k]! * f));
  };
  for (let y = box.y0; y < box.y0 + box.h; y++)
    for (let x = box.x0; x < box.x0 + box.w; x++) if (fit.inside(x + 0.5, y + 0.5)) paint(x, y);
  // the shape's extreme points (a star's tip may miss every pixel centre): the mask's box is exactly the box
  for (const [x, y] of fit.extremes) paint(x, y);
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
