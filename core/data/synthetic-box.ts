import type { ShapeTest } from './synthetic-shapes';

/**
 * Fits a rotated shape exactly into a given pixel box, so that the box (extent, aspect, position, area) is
 * whatever the caller drew and never a property of the shape: the generator's leak-free-at-p=0 guarantee
 * (STUDY.md). Shapes differ in extent (a plus fills its unit disk, an ell a corner of it); stretched into a
 * box drawn from one distribution for every class, only the silhouette inside the box tells them apart.
 */
export interface FittedShape {
  /** Is pixel centre (px, py) (image coordinates) inside the shape? Pixels outside the box never are. */
  inside(px: number, py: number): boolean;
  /** u coordinate (shape frame, -1..1) at a pixel centre: for the object's shade. */
  u(px: number, py: number): number;
  /** Pixels that the shape's four extreme points fall in: set so the mask's tight box is exactly the box. */
  extremes: [number, number][];
}

const GRID = 97;
const hullCache = new Map<ShapeTest, [number, number][]>();

/** Leftmost and rightmost inside point of each sampled row: a superset of the sampled set's hull vertices. */
function outline(inside: ShapeTest): [number, number][] {
  const hit = hullCache.get(inside);
  if (hit) return hit;
  const pts: [number, number][] = [];
  for (let j = 0; j < GRID; j++) {
    const v = -1 + (2 * j) / (GRID - 1);
    let first: number | undefined;
    let last: number | undefined;
    for (let i = 0; i < GRID; i++) {
      const u = -1 + (2 * i) / (GRID - 1);
      if (!inside(u, v)) continue;
      first ??= u;
      last = u;
    }
    if (first !== undefined) pts.push([first, v], [last!, v]);
  }
  hullCache.set(inside, pts);
  return pts;
}

/**
 * The shape rotated by theta and stretched to fill box [x0, x0 + w) x [y0, y0 + h) (pixels). `dx, dy` shift
 * the whole fit (a cast shadow is the same fit, shifted), and then pixels outside the shifted box are outside.
 */
export function fitShape(
  inside: ShapeTest,
  theta: number,
  box: { x0: number; y0: number; w: number; h: number },
): FittedShape {
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  // rotated frame: X = u cos - v sin, Y = u sin + v cos (so u = X cos + Y sin, v = -X sin + Y cos)
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  const extPts: ([number, number] | undefined)[] = [undefined, undefined, undefined, undefined];
  for (const [u, v] of outline(inside)) {
    const X = u * cos - v * sin;
    const Y = u * sin + v * cos;
    if (X < minX) [minX, extPts[0]] = [X, [X, Y]];
    if (X > maxX) [maxX, extPts[1]] = [X, [X, Y]];
    if (Y < minY) [minY, extPts[2]] = [Y, [X, Y]];
    if (Y > maxY) [maxY, extPts[3]] = [Y, [X, Y]];
  }
  const { x0, y0, w, h } = box;
  const sx = (maxX - minX) / w;
  const sy = (maxY - minY) / h;
  const toShape = (px: number, py: number): [number, number] => {
    const X = minX + (px - x0) * sx;
    const Y = minY + (py - y0) * sy;
    return [X * cos + Y * sin, -X * sin + Y * cos];
  };
  const ext = extPts.map((pt) => {
    const [X, Y] = pt!;
    return [
      Math.min(x0 + w - 1, Math.max(x0, Math.floor(x0 + (X - minX) / sx))),
      Math.min(y0 + h - 1, Math.max(y0, Math.floor(y0 + (Y - minY) / sy))),
    ] as [number, number];
  });
  return {
    inside: (px, py) => {
      if (px < x0 || px >= x0 + w || py < y0 || py >= y0 + h) return false;
      const [u, v] = toShape(px, py);
      return inside(u, v);
    },
    u: (px, py) => toShape(px, py)[0],
    extremes: ext,
  };
}
