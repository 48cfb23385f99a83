import sharp from 'sharp';
import type { Sample } from '../data/sample';
import { samplePixels } from './pixels';
import type { SaliencyItem } from './saliency';

/** "hot" colour map: black -> red -> yellow -> white. */
function hot(v: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(3 * v), c(3 * v - 1), c(3 * v - 2)];
}

/**
 * A PNG for people: each sample as its image and its saliency map side by side (nearest-neighbour upscaled so
 * small inputs stay visible), `pairsPerRow` pairs per row, 4 px gaps.
 */
export async function saliencyGridPng(
  samples: Sample[],
  items: SaliencyItem[],
  size: number,
  pairsPerRow = 4,
  /** The image as the model saw it (a pretrained model's crop); default samplePixels at `size`. */
  view: (sample: Sample) => Float32Array = (s) => samplePixels(s, size),
): Promise<Buffer> {
  const scale = Math.max(1, Math.floor(96 / size));
  const cell = size * scale;
  const gap = 4;
  const cols = Math.min(pairsPerRow, items.length) * 2;
  const rows = Math.ceil(items.length / pairsPerRow);
  const width = cols * cell + (cols + 1) * gap;
  const height = rows * cell + (rows + 1) * gap;
  const out = Buffer.alloc(width * height * 3, 255);
  const paint = (col: number, row: number, pixel: (x: number, y: number) => [number, number, number]) => {
    const x0 = gap + col * (cell + gap);
    const y0 = gap + row * (cell + gap);
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) {
        const rgb = pixel(Math.floor(x / scale), Math.floor(y / scale));
        out.set(rgb, ((y0 + y) * width + x0 + x) * 3);
      }
    }
  };
  items.forEach((item, i) => {
    const img = view(samples[i]!);
    const row = Math.floor(i / pairsPerRow);
    const col = (i % pairsPerRow) * 2;
    paint(col, row, (x, y) => {
      const p = (y * size + x) * 3;
      return [Math.round(img[p]! * 255), Math.round(img[p + 1]! * 255), Math.round(img[p + 2]! * 255)];
    });
    paint(col + 1, row, (x, y) => hot(item.map[y * size + x]! / 255));
  });
  return sharp(out, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
