import sharp from 'sharp';
import type { Sample } from '../data/sample';
import { samplePixels } from './pixels';
import type { SaliencyItem } from './saliency';

/** Maps 0..255 to a dark-to-bright "hot" colour ramp (black, red, yellow, white). */
function hot(v: number): [number, number, number] {
  const t = v / 255;
  return [
    Math.min(255, t * 3 * 255),
    Math.min(255, Math.max(0, t * 3 - 1) * 255),
    Math.min(255, Math.max(0, t * 3 - 2) * 255),
  ];
}

/**
 * A PNG for people: one row per sample, the input image beside its saliency map, `columns` pairs per row.
 * Samples and items are in the same order (both from the fixed sample grid).
 */
export async function saliencyGridPng(
  samples: Sample[],
  items: SaliencyItem[],
  size: number,
  columns = 4,
): Promise<Buffer> {
  const n = Math.min(samples.length, items.length);
  const gap = 2;
  const cellW = size * 2 + gap;
  const rows = Math.max(1, Math.ceil(n / columns));
  const width = columns * (cellW + gap);
  const height = rows * (size + gap);
  const out = Buffer.alloc(width * height * 3, 255);
  for (let i = 0; i < n; i++) {
    const x0 = (i % columns) * (cellW + gap);
    const y0 = Math.floor(i / columns) * (size + gap);
    const img = samplePixels(samples[i]!, size);
    const map = items[i]!.map;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = y * size + x;
        const o = ((y0 + y) * width + x0 + x) * 3;
        for (let c = 0; c < 3; c++) out[o + c] = Math.round(img[p * 3 + c]! * 255);
        const [r, g, b] = hot(map[p] ?? 0);
        const m = o + (size + gap) * 3;
        out[m] = r;
        out[m + 1] = g;
        out[m + 2] = b;
      }
    }
  }
  return sharp(out, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
