/**
 * Foreground shape families of the synthetic dataset, one per class. Each is an inside-test in the object's
 * own frame (u, v in [-1, 1], the object's radius = 1), chosen to stay distinct under any rotation and at 32 px:
 * a CNN must be able to learn them in a few epochs (see STUDY.md: shapes that were too thin or alike left models
 * leaning only on backgrounds). Every shape fits inside the unit disk, so a rotated object never leaves its box.
 */
export type ShapeTest = (u: number, v: number) => boolean;

const STAR_IN = 0.42;
const STAR_OUT = 0.97;
const STAR_SECTOR = (2 * Math.PI) / 5;
const STAR_P2 = [STAR_IN * Math.cos(STAR_SECTOR / 2), STAR_IN * Math.sin(STAR_SECTOR / 2)] as const;

function star(u: number, v: number): boolean {
  const r = Math.hypot(u, v);
  if (r > STAR_OUT) return false;
  let t = Math.atan2(v, u) % STAR_SECTOR;
  if (t < 0) t += STAR_SECTOR;
  if (t > STAR_SECTOR / 2) t = STAR_SECTOR - t;
  const px = r * Math.cos(t);
  const py = r * Math.sin(t);
  // inside when on the origin's side of the edge from the outer tip (STAR_OUT, 0) to the inner vertex
  const ex = STAR_P2[0] - STAR_OUT;
  const ey = STAR_P2[1];
  // the origin gives ey * STAR_OUT > 0, so inside means the same (non-negative) sign
  return ex * py - ey * (px - STAR_OUT) >= 0;
}

function triangle(u: number, v: number): boolean {
  // equilateral, circumradius 0.95, apex up
  const a = 0.95;
  if (v < -a) return false;
  if (v > a / 2) return false;
  const halfWidth = ((v + a) / (1.5 * a)) * (a * Math.sqrt(3) * 0.5);
  return Math.abs(u) <= halfWidth;
}

const S = 0.68; // half-side for box-like shapes (corner radius 0.96)

export const SHAPES: readonly { name: string; inside: ShapeTest }[] = [
  { name: 'disk', inside: (u, v) => u * u + v * v <= 0.85 * 0.85 },
  { name: 'square', inside: (u, v) => Math.abs(u) <= S && Math.abs(v) <= S },
  { name: 'triangle', inside: triangle },
  {
    name: 'plus',
    inside: (u, v) =>
      (Math.abs(u) <= 0.26 && Math.abs(v) <= 0.92) || (Math.abs(v) <= 0.26 && Math.abs(u) <= 0.92),
  },
  { name: 'ring', inside: (u, v) => { const r2 = u * u + v * v; return r2 <= 0.92 * 0.92 && r2 >= 0.52 * 0.52; } }, // prettier-ignore
  { name: 'star', inside: star },
  {
    name: 'crescent',
    inside: (u, v) => u * u + v * v <= 0.9 * 0.9 && (u - 0.45) * (u - 0.45) + v * v > 0.72 * 0.72,
  },
  {
    name: 'ell',
    inside: (u, v) =>
      (u >= -S && u <= -S + 0.45 && Math.abs(v) <= S) || (v >= S - 0.45 && v <= S && Math.abs(u) <= S),
  },
  {
    name: 'aitch',
    inside: (u, v) =>
      (Math.abs(u) >= S - 0.38 && Math.abs(u) <= S && Math.abs(v) <= S) ||
      (Math.abs(v) <= 0.2 && Math.abs(u) <= S),
  },
  {
    name: 'tee',
    inside: (u, v) =>
      (v >= -S && v <= -S + 0.42 && Math.abs(u) <= S) || (Math.abs(u) <= 0.22 && Math.abs(v) <= S),
  },
  { name: 'frame', inside: (u, v) => { const m = Math.max(Math.abs(u), Math.abs(v)); return m <= S && m >= S - 0.3; } }, // prettier-ignore
  { name: 'half_disk', inside: (u, v) => u * u + v * v <= 0.92 * 0.92 && v >= -0.1 },
];
