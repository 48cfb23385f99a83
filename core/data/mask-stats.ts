import { sha256Hex } from '../hash';
import type { BBox, ItemMeta } from './manifest';
import type { Sample } from './sample';

/** Tight box around the mask's nonzero pixels and their count; bbox [0,0,0,0] when the mask is empty. */
export function maskStats(mask: Uint8Array, width: number, height: number): { bbox: BBox; count: number } {
  let x0 = width;
  let y0 = -1;
  let x1 = -1;
  let y1 = -1;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (mask[row + x] !== 0) {
        if (first < 0) first = x;
        last = x;
        count++;
      }
    }
    if (first < 0) continue;
    if (y0 < 0) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  return { bbox: x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 + 1, y1 + 1], count };
}

export function maskBBox(mask: Uint8Array, width: number, height: number): BBox {
  return maskStats(mask, width, height).bbox;
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
  const stats = s.mask ? maskStats(s.mask, s.width, s.height) : undefined;
  const bbox: BBox = stats ? stats.bbox : [0, 0, s.width, s.height];
  const fgFraction = stats ? stats.count / (s.width * s.height) : 1;
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
