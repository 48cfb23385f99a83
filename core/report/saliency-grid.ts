import sharp from 'sharp';
import type { Sample } from '../data/sample';

/** The part of a stored saliency result (core/ml/results.ts SaliencyResult) a grid needs. */
export interface SaliencyMaps {
  kind: 'saliency';
  size: number;
  items: { id: string; label: number; predicted: number; map: number[] }[];
}

export function isSaliencyMaps(x: unknown): x is SaliencyMaps {
  const s = x as Partial<SaliencyMaps> | null;
  return !!s && s.kind === 'saliency' && typeof s.size === 'number' && Array.isArray(s.items);
}

/** The "hot" colour map: black -> red -> yellow -> white, so saliency reads without a legend. */
export function hot(v: number): [number, number, number] {
  const t = Math.max(0, Math.min(255, v)) * 3;
  return [Math.min(255, t), Math.max(0, Math.min(255, t - 255)), Math.max(0, Math.min(255, t - 510))];
}

/**
 * A PNG of saliency maps: one column per item, the image the model saw on top (when its sample is given) and
 * its map below, each tile upscaled by an integer factor (nearest neighbour) to at least `minTile` pixels.
 */
export async function saliencyGridPng(
  maps: SaliencyMaps,
  samples: Map<string, Sample>,
  options: { minTile?: number; gap?: number; maxItems?: number } = {},
): Promise<Buffer> {
  const s = maps.size;
  const f = Math.max(1, Math.ceil((options.minTile ?? 64) / s));
  const tile = s * f;
  const gap = options.gap ?? 2;
  const items = maps.items.slice(0, options.maxItems ?? 16);
  const width = Math.max(1, items.length * (tile + gap) - gap);
  const height = 2 * tile + gap;
  const out = Buffer.alloc(width * height * 3, 255);
  const paint = (x0: number, y0: number, pixel: (x: number, y: number) => [number, number, number]) => {
    for (let y = 0; y < tile; y++)
      for (let x = 0; x < tile; x++)
        out.set(pixel(Math.floor(x / f), Math.floor(y / f)), 3 * ((y0 + y) * width + x0 + x));
  };
  for (const [i, item] of items.entries()) {
    const x0 = i * (tile + gap);
    const sample = samples.get(item.id);
    if (sample) {
      const rgb =
        sample.width === s && sample.height === s
          ? sample.rgb
          : await sharp(Buffer.from(sample.rgb), {
              raw: { width: sample.width, height: sample.height, channels: 3 },
            })
              .resize(s, s, { fit: 'fill' })
              .raw()
              .toBuffer();
      paint(x0, 0, (x, y) => {
        const o = 3 * (y * s + x);
        return [rgb[o]!, rgb[o + 1]!, rgb[o + 2]!];
      });
    }
    paint(x0, tile + gap, (x, y) => hot(item.map[y * s + x] ?? 0));
  }
  return sharp(out, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}
