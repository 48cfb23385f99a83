import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { BadInputError } from '../data/decode';

/**
 * The image half of core/data/decode.ts's decodeImageAndMask, for sources whose masks are made here: decoded
 * at full size to 8-bit sRGB (so boxes and mask sizes are checked against the true size), resized afterwards.
 * The sharp pipelines are the same, so a dataset comes out byte-identical either way.
 */
export async function decodeRgb(file: string): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const img = await readFile(file)
    .then((input) =>
      sharp(input, { failOn: 'truncated' })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true }),
    )
    .catch((err: Error) => {
      throw new BadInputError(file, `cannot decode image: ${err.message}`);
    });
  const { width, height, channels } = img.info;
  if (channels !== 3) throw new BadInputError(file, `decoded to ${channels} channels, expected 3`);
  return { width, height, rgb: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length) };
}

/** RGB resized to a `size` square: cover + centre crop, as decodeImageAndMask does. */
export async function resizeRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  size: number,
): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp(rgb, { raw: { width, height, channels: 3 } })
      .resize(size, size, { fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer(),
  );
}

/** A 0/255 mask resized with the same geometry (nearest neighbour, so it stays binary and aligned). */
export async function resizeMask(
  mask: Uint8Array,
  width: number,
  height: number,
  size: number,
): Promise<Uint8Array> {
  const resized = await sharp(mask, { raw: { width, height, channels: 1 } })
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'nearest' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const out = new Uint8Array(resized.length);
  for (let i = 0; i < resized.length; i++) out[i] = resized[i]! > 127 ? 255 : 0;
  return out;
}
