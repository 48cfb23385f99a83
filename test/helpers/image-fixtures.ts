import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { maskToNpy } from '../../core/data/npy';

/** A deterministic test image: a gradient with a bright square (the "object") at [x0, x1) x [y0, y1). */
export function fixturePixels(
  w: number,
  h: number,
  seed: number,
  box: [number, number, number, number],
): { rgb: Buffer; mask: Uint8Array } {
  const rgb = Buffer.alloc(w * h * 3);
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const fg = x >= box[0] && x < box[2] && y >= box[1] && y < box[3];
      mask[i] = fg ? 255 : 0;
      rgb[i * 3] = fg ? 250 : (x * 7 + seed * 31) % 200;
      rgb[i * 3 + 1] = fg ? 240 : (y * 5 + seed * 17) % 200;
      rgb[i * 3 + 2] = fg ? 20 : (x + y + seed * 13) % 200;
    }
  }
  return { rgb, mask };
}

export async function writeImage(file: string, rgb: Buffer, w: number, h: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const img = sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
  await (file.toLowerCase().endsWith('.png') ? img.png() : img.jpeg({ quality: 95 })).toFile(file);
}

export async function writeMask(file: string, mask: Uint8Array, w: number, h: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  if (file.endsWith('.npy')) await writeFile(file, maskToNpy(mask, w, h, 'b1'));
  else
    await sharp(Buffer.from(mask), { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toFile(file);
}

/** An image file + mask file pair with an object box; returns the pixels written. */
export async function writePair(
  image: string,
  mask: string,
  seed: number,
  w = 20,
  h = 20,
): Promise<{ rgb: Buffer; mask: Uint8Array }> {
  const box: [number, number, number, number] = [3 + (seed % 5), 4, 12 + (seed % 5), 14];
  const px = fixturePixels(w, h, seed, box);
  await writeImage(image, px.rgb, w, h);
  await writeMask(mask, px.mask, w, h);
  return px;
}
