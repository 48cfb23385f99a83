import type { MaskChecksSpec } from './mask-spec';

/**
 * What can be wrong with a mask. `empty`, `full` and `size-mismatch` make it unusable (the image is always
 * skipped); the others are reported and handled by the spec's policy.
 */
export const MASK_FLAGS = [
  'empty',
  'full',
  'size-mismatch',
  'fg-low',
  'fg-high',
  'all-borders',
  'fragmented',
] as const;
export type MaskFlag = (typeof MASK_FLAGS)[number];

export const UNUSABLE_FLAGS: readonly MaskFlag[] = ['empty', 'full', 'size-mismatch'];

export const FLAG_MEANING: Record<MaskFlag, string> = {
  empty: 'no foreground pixels',
  full: 'no background pixels (all foreground)',
  'size-mismatch': 'mask size differs from the image size',
  'fg-low': 'foreground share below the minimum',
  'fg-high': 'foreground share above the maximum',
  'all-borders': 'foreground touches all four borders (likely swapped polarity)',
  fragmented: 'more connected foreground pieces than the maximum',
};

export interface MaskCheck {
  flags: MaskFlag[];
  /** Share of foreground pixels. */
  fg: number;
  /** Connected foreground pieces (8-connected) of at least minComponentFraction of the image. */
  components: number;
}

/** Runs every sanity check on a 0/255 (any nonzero = foreground) mask of width x height. */
export function checkMask(mask: Uint8Array, width: number, height: number, spec: MaskChecksSpec): MaskCheck {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) count++;
  const fg = count / mask.length;
  const flags: MaskFlag[] = [];
  if (count === 0) flags.push('empty');
  else if (count === mask.length) flags.push('full');
  else {
    if (fg < spec.minFgFraction) flags.push('fg-low');
    if (fg > spec.maxFgFraction) flags.push('fg-high');
    if (touchesAllBorders(mask, width, height)) flags.push('all-borders');
  }
  const minPixels = Math.max(1, Math.ceil(spec.minComponentFraction * width * height));
  const components = count === 0 ? 0 : countComponents(mask, width, height, minPixels);
  if (components > spec.maxComponents) flags.push('fragmented');
  return { flags, fg, components };
}

export function touchesAllBorders(mask: Uint8Array, width: number, height: number): boolean {
  const rowHas = (y: number) => {
    for (let x = 0; x < width; x++) if (mask[y * width + x]) return true;
    return false;
  };
  const colHas = (x: number) => {
    for (let y = 0; y < height; y++) if (mask[y * width + x]) return true;
    return false;
  };
  return rowHas(0) && rowHas(height - 1) && colHas(0) && colHas(width - 1);
}

/** Number of 8-connected foreground pieces with at least `minPixels` pixels (flood fill with an explicit stack). */
export function countComponents(mask: Uint8Array, width: number, height: number, minPixels = 1): number {
  const seen = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  let pieces = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    let top = 0;
    let size = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const px = p % width;
      const py = (p - px) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const y = py + dy;
        if (y < 0 || y >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const x = px + dx;
          if (x < 0 || x >= width) continue;
          const q = y * width + x;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    if (size >= minPixels) pieces++;
  }
  return pieces;
}

export function invertMask(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 0 : 255;
  return out;
}

/** Intersection over union of two masks of the same size (1 when both are empty). */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`maskIoU: sizes differ (${a.length} vs ${b.length})`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}
