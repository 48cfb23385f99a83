import type { BBox } from '../data/manifest';
import { maskBBox } from '../data/mask-stats';
import { largestBackgroundRect } from './morphology';
import { PALETTE, type PaletteColor } from './palette';

/** A decoded image with its foreground mask (255 = foreground) and the mask's bounding box. */
export interface RawImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  mask: Uint8Array;
  bbox: BBox;
}

export function rawImage(width: number, height: number, rgb: Uint8Array, mask: Uint8Array): RawImage {
  return { width, height, rgb, mask, bbox: maskBBox(mask, width, height) };
}

/** Foreground bounding box filled black. */
export function onlyBgB(src: RawImage): Uint8Array {
  const out = new Uint8Array(src.rgb);
  const [x0, y0, x1, y1] = src.bbox;
  for (let y = y0; y < y1; y++) out.fill(0, (y * src.width + x0) * 3, (y * src.width + x1) * 3);
  return out;
}

/**
 * Foreground bounding box filled by tiling the image's largest foreground-free rectangle (Xiao et al.'s
 * Only-BG-T). With no such rectangle (an all-foreground mask) the box is left black.
 */
export function onlyBgT(src: RawImage): Uint8Array {
  const out = onlyBgB(src);
  const rect = largestBackgroundRect(src.mask, src.width, src.height);
  if (!rect) return out;
  const [rx0, ry0, rx1, ry1] = rect;
  const rw = rx1 - rx0;
  const rh = ry1 - ry0;
  const [x0, y0, x1, y1] = src.bbox;
  const w = src.width;
  // copy whole runs of the tile's row at a time (the tile repeats every rw pixels across the box)
  for (let y = y0; y < y1; y++) {
    const sy = ry0 + ((y - y0) % rh);
    const srcRow = (sy * w + rx0) * 3;
    for (let x = x0; x < x1; x += rw) {
      const run = Math.min(rw, x1 - x);
      out.set(src.rgb.subarray(srcRow, srcRow + run * 3), (y * w + x) * 3);
    }
  }
  return out;
}

/** Pixels where `keep` is nonzero stay, the rest become black. */
export function keepWhere(rgb: Uint8Array, keep: Uint8Array, invert = false): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < keep.length; i++) {
    if ((keep[i] !== 0) !== invert) {
      out[i * 3] = rgb[i * 3]!;
      out[i * 3 + 1] = rgb[i * 3 + 1]!;
      out[i * 3 + 2] = rgb[i * 3 + 2]!;
    }
  }
  return out;
}

/** The foreground of `fg` pasted over `background` (same size). */
export function pasteForeground(fg: RawImage, background: Uint8Array): Uint8Array {
  const out = new Uint8Array(background);
  for (let i = 0; i < fg.mask.length; i++) {
    if (fg.mask[i]) {
      out[i * 3] = fg.rgb[i * 3]!;
      out[i * 3 + 1] = fg.rgb[i * 3 + 1]!;
      out[i * 3 + 2] = fg.rgb[i * 3 + 2]!;
    }
  }
  return out;
}

export function foregroundMean(src: RawImage): [number, number, number] {
  const s = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < src.mask.length; i++) {
    if (src.mask[i]) {
      s[0]! += src.rgb[i * 3]!;
      s[1]! += src.rgb[i * 3 + 1]!;
      s[2]! += src.rgb[i * 3 + 2]!;
      n++;
    }
  }
  return n ? [s[0]! / n, s[1]! / n, s[2]! / n] : [0, 0, 0];
}

/** The palette colour for bg_color: a named one, or the farthest (`contrast`) / nearest (`match`) to the foreground mean. */
export function bgColorOf(
  src: RawImage,
  color: PaletteColor | 'contrast' | 'match',
): readonly [number, number, number] {
  if (color !== 'contrast' && color !== 'match') return PALETTE[color];
  const mean = foregroundMean(src);
  let best: readonly [number, number, number] = PALETTE.black;
  let bestD = color === 'contrast' ? -1 : Infinity;
  for (const c of Object.values(PALETTE)) {
    const d = Math.hypot(c[0] - mean[0], c[1] - mean[1], c[2] - mean[2]);
    if (color === 'contrast' ? d > bestD : d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

export function solidBackground(src: RawImage, rgbColor: readonly [number, number, number]): Uint8Array {
  const bg = new Uint8Array(src.rgb.length);
  for (let i = 0; i < src.mask.length; i++) {
    bg[i * 3] = rgbColor[0];
    bg[i * 3 + 1] = rgbColor[1];
    bg[i * 3 + 2] = rgbColor[2];
  }
  return pasteForeground(src, bg);
}

/** bg_reduced's radius in pixels: r < 1 is a fraction of the shorter side. */
export function reducedRadiusPx(r: number, width: number, height: number): number {
  return r < 1 ? r * Math.min(width, height) : r;
}

/** Nearest-neighbour resize of an RGB buffer (for pasting onto a background of another size). */
export function resizeNearest(
  rgb: Uint8Array,
  w: number,
  h: number,
  W: number,
  H: number,
  channels = 3,
): Uint8Array {
  if (w === W && h === H) return rgb;
  const out = new Uint8Array(W * H * channels);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / W));
      for (let k = 0; k < channels; k++) out[(y * W + x) * channels + k] = rgb[(sy * w + sx) * channels + k]!;
    }
  }
  return out;
}
