import type { BBox } from '../data/manifest';

/**
 * Exact squared Euclidean distance from every pixel to the nearest pixel where `target(i)` holds
 * (Felzenszwalb & Huttenlocher's two-pass 1-D lower envelope). Infinity when no pixel is a target.
 */
export function squaredDistanceTo(
  target: (i: number) => boolean,
  width: number,
  height: number,
): Float64Array {
  const INF = 1e20;
  const d = new Float64Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = target(i) ? 0 : INF;
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const out = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const pass = (len: number) => {
    let k = 0;
    v[0] = 0;
    z[0] = -Infinity;
    z[1] = Infinity;
    for (let q = 1; q < len; q++) {
      let s = (f[q]! + q * q - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      while (s <= z[k]!) {
        k--;
        s = (f[q]! + q * q - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = Infinity;
    }
    k = 0;
    for (let q = 0; q < len; q++) {
      while (z[k + 1]! < q) k++;
      out[q] = (q - v[k]!) * (q - v[k]!) + f[v[k]!]!;
    }
  };
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = d[y * width + x]!;
    pass(height);
    for (let y = 0; y < height; y++) d[y * width + x] = out[y]!;
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = d[y * width + x]!;
    pass(width);
    for (let x = 0; x < width; x++) d[y * width + x] = out[x]!;
  }
  for (let i = 0; i < d.length; i++) if (d[i]! >= INF / 2) d[i] = Infinity;
  return d;
}

/** Pixels within Euclidean distance r of the mask (a uniform disk dilation). */
export function dilateMask(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const d = squaredDistanceTo((i) => mask[i] !== 0, width, height);
  const out = new Uint8Array(mask.length);
  const r2 = r * r;
  for (let i = 0; i < out.length; i++) out[i] = d[i]! <= r2 ? 255 : 0;
  return out;
}

/** Mask pixels farther than k from every background pixel (a disk erosion). */
export function erodeMask(mask: Uint8Array, width: number, height: number, k: number): Uint8Array {
  const d = squaredDistanceTo((i) => mask[i] === 0, width, height);
  const out = new Uint8Array(mask.length);
  const k2 = k * k;
  for (let i = 0; i < out.length; i++) out[i] = mask[i] && d[i]! > k2 ? 255 : 0;
  return out;
}

export function bboxMask(bbox: BBox, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const [x0, y0, x1, y1] = bbox;
  for (let y = y0; y < y1; y++) out.fill(255, y * width + x0, y * width + x1);
  return out;
}

/** Largest axis-aligned rectangle containing no foreground pixel (histogram-stack method), or undefined. */
export function largestBackgroundRect(mask: Uint8Array, width: number, height: number): BBox | undefined {
  const heights = new Int32Array(width);
  let best = 0;
  let rect: BBox | undefined;
  const stack: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) heights[x] = mask[y * width + x] ? 0 : heights[x]! + 1;
    stack.length = 0;
    for (let x = 0; x <= width; x++) {
      const h = x < width ? heights[x]! : 0;
      while (stack.length && heights[stack[stack.length - 1]!]! >= h) {
        const top = stack.pop()!;
        const hh = heights[top]!;
        const left = stack.length ? stack[stack.length - 1]! + 1 : 0;
        const area = hh * (x - left);
        if (area > best) {
          best = area;
          rect = [left, y - hh + 1, x, y + 1];
        }
      }
      stack.push(x);
    }
  }
  return rect;
}
