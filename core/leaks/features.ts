import type { BBox } from '../data/manifest';

/**
 * What a background-only image shows a simple learner, as numbers: the box's geometry, row and column
 * profiles (intensity and edge strength per row/column: a black box or a tiled seam shows up here), and colour
 * and texture statistics. Every feature is class-free by construction; any class signal in them is a leak.
 */
export const FEATURE_GROUPS = ['geometry', 'profiles', 'stats'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number] | 'all';

/** Profiles are binned to this many rows/columns whatever the image size. */
const BINS = 16;

export type FeatureVector = Record<(typeof FEATURE_GROUPS)[number], number[]>;

/** Features of one RGB image (row-major HWC); `bbox`: the box it shows (undefined: geometry left empty). */
export function imageFeatures(rgb: Uint8Array, width: number, height: number, bbox?: BBox): FeatureVector {
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++)
    gray[i] = (0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!) / 255;
  return {
    geometry: bbox ? geometry(bbox, width, height) : [],
    profiles: profiles(gray, width, height),
    stats: [...colourStats(rgb, width * height), ...textureStats(gray, width, height)],
  };
}

/** `all` is every group the vector has (only_bg_t's vectors leave geometry empty). */
export function selectFeatures(f: FeatureVector, group: FeatureGroup): number[] {
  return group === 'all' ? [...f.geometry, ...f.profiles, ...f.stats] : f[group];
}

function geometry([x0, y0, x1, y1]: BBox, width: number, height: number): number[] {
  const w = (x1 - x0) / width;
  const h = (y1 - y0) / height;
  return [x0 / width, y0 / height, x1 / width, y1 / height, w, h, Math.log((w + 1e-3) / (h + 1e-3)), w * h];
}

/** Mean intensity and mean absolute gradient of each row and each column, averaged into BINS bins. */
function profiles(gray: Float32Array, width: number, height: number): number[] {
  const rowMean = new Float64Array(BINS);
  const rowEdge = new Float64Array(BINS);
  const colMean = new Float64Array(BINS);
  const colEdge = new Float64Array(BINS);
  const rowN = new Float64Array(BINS);
  const colN = new Float64Array(BINS);
  for (let y = 0; y < height; y++) {
    const by = Math.min(BINS - 1, Math.floor((y * BINS) / height));
    for (let x = 0; x < width; x++) {
      const bx = Math.min(BINS - 1, Math.floor((x * BINS) / width));
      const v = gray[y * width + x]!;
      const gx = x + 1 < width ? Math.abs(gray[y * width + x + 1]! - v) : 0;
      const gy = y + 1 < height ? Math.abs(gray[(y + 1) * width + x]! - v) : 0;
      rowMean[by]! += v;
      rowEdge[by]! += gx;
      rowN[by]!++;
      colMean[bx]! += v;
      colEdge[bx]! += gy;
      colN[bx]!++;
    }
  }
  const out: number[] = [];
  for (let b = 0; b < BINS; b++) out.push(rowMean[b]! / rowN[b]!, rowEdge[b]! / rowN[b]!);
  for (let b = 0; b < BINS; b++) out.push(colMean[b]! / colN[b]!, colEdge[b]! / colN[b]!);
  return out;
}

/** Per-channel mean and standard deviation, and an 8-bin hue histogram weighted by saturation. */
function colourStats(rgb: Uint8Array, n: number): number[] {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  const hue = new Array<number>(8).fill(0);
  for (let i = 0; i < n; i++) {
    const r = rgb[i * 3]! / 255;
    const g = rgb[i * 3 + 1]! / 255;
    const b = rgb[i * 3 + 2]! / 255;
    sum[0]! += r;
    sum[1]! += g;
    sum[2]! += b;
    sq[0]! += r * r;
    sq[1]! += g * g;
    sq[2]! += b * b;
    const max = Math.max(r, g, b);
    const c = max - Math.min(r, g, b);
    if (c <= 0) continue;
    let h = max === r ? ((g - b) / c) % 6 : max === g ? (b - r) / c + 2 : (r - g) / c + 4;
    if (h < 0) h += 6;
    hue[Math.min(7, Math.floor((h / 6) * 8))]! += c;
  }
  const mean = sum.map((s) => s / n);
  const sd = sq.map((s, k) => Math.sqrt(Math.max(0, s / n - mean[k]! ** 2)));
  return [...mean, ...sd, ...hue.map((h) => h / n)];
}

/** Mean absolute difference at lags 1 and 2 in four directions: orientation and scale of the texture. */
function textureStats(gray: Float32Array, width: number, height: number): number[] {
  const out: number[] = [];
  for (const lag of [1, 2])
    for (const [dx, dy] of [
      [lag, 0],
      [0, lag],
      [lag, lag],
      [lag, -lag],
    ] as const) {
      let s = 0;
      let n = 0;
      for (let y = Math.max(0, -dy); y < height - Math.max(0, dy); y++)
        for (let x = 0; x < width - dx; x++) {
          s += Math.abs(gray[(y + dy) * width + x + dx]! - gray[y * width + x]!);
          n++;
        }
      out.push(n ? s / n : 0);
    }
  return out;
}
