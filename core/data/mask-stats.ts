import { sha256Hex } from '../hash';
import type { BBox, ItemMeta } from './manifest';
import type { Sample } from './sample';

/** Tight box around the mask's nonzero pixels; [0,0,0,0] when the mask is empty. */
export function maskBBox(mask: Uint8Array, width: number, height: number): BBox {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 + 1, y1 + 1];
}

export function countNonzero(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}

export function sampleHash(s: Sample): string {
  const h = sha256Hex(s.rgb);
  return s.mask ? sha256Hex(h + sha256Hex(s.mask)).slice(0, 16) : h.slice(0, 16);
}

export function itemMetaOf(s: Sample, extra: Partial<ItemMeta> = {}): ItemMeta {
  const bbox: BBox = s.mask ? maskBBox(s.mask, s.width, s.height) : [0, 0, s.width, s.height];
  const fgFraction = s.mask ? countNonzero(s.mask) / (s.width * s.height) : 1;
  return {
    id: s.id,
    label: s.label,
    width: s.width,
    height: s.height,
    bbox,
    fgFraction,
    hash: sampleHash(s),
    ...extra,
  };
}
