import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { npyToMask } from './npy';
import { MAX_SIDE } from './raw-shard';

/** A file we could not use, and why: becomes one `skipped` entry of the manifest. */
export class BadInputError extends Error {
  override name = 'BadInputError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);
export const MASK_EXTENSIONS = ['.png', '.npy'];

/**
 * Default pixel limit per image (width x height), checked from the header before anything is decoded: 40 MP is
 * far above ImageNet-sized photos, and a 30,000 x 30,000 PNG or a decompression bomb is refused, not decoded.
 */
export const DEFAULT_MAX_PIXELS = 40_000_000;

export interface DecodeLimits {
  /** Images and masks with more pixels are refused by name (BadInputError). Default DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
}

/** A sharp pipeline that refuses inputs over the pixel limit and decodes nothing truncated. */
export function limitedSharp(input: Buffer | string, limits: DecodeLimits = {}): Sharp {
  return sharp(input, { failOn: 'truncated', limitInputPixels: limits.maxPixels ?? DEFAULT_MAX_PIXELS });
}

/**
 * Reads an input file whole, unless it is larger than any image within the pixel limit could be (8 bytes per
 * pixel: 16-bit RGBA or float64 uncompressed, plus 1 MiB of metadata): a huge file is refused before it is read.
 * Only regular files are read: it is opened without blocking (O_NONBLOCK), so a FIFO or device named like an
 * image is refused by name instead of hanging the import; the read stops at the size found, plus one byte to
 * notice a file that grows meanwhile.
 */
async function readLimited(file: string, what: string, limits: DecodeLimits): Promise<Buffer> {
  const max = (limits.maxPixels ?? DEFAULT_MAX_PIXELS) * 8 + 2 ** 20;
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: Error) => {
    throw new BadInputError(file, `cannot read ${what}: ${err.message}`);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new BadInputError(file, `${what} is not a regular file (${fileKind(st)}); not read`);
    if (st.size > max)
      throw new BadInputError(
        file,
        `${what} file is ${st.size} bytes, more than ${max} (8 bytes per pixel of maxPixels)`,
      );
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) throw new BadInputError(file, `${what} file grew while it was read; not read`);
    }
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof BadInputError) throw err;
    throw new BadInputError(file, `cannot read ${what}: ${(err as Error).message}`);
  } finally {
    await fh.close();
  }
}

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a plain file';
}

/**
 * Refuses a decoded image or mask whose side is over MAX_SIDE, the limit the raw shard format holds to: without
 * `size` images are stored at their own size, and one 1 x 100000 strip would make every later read of its shard
 * fail. Skipped here, by name, it costs the dataset that image only.
 */
export function checkSides(file: string, what: string, width: number, height: number): void {
  if (width > MAX_SIDE || height > MAX_SIDE)
    throw new BadInputError(
      file,
      `${what} is ${width}x${height}: a side over ${MAX_SIDE} pixels cannot be stored in a shard; not imported`,
    );
}

/**
 * The raster format of a file's first bytes, or undefined. sharp also renders SVG (and, in some builds, other
 * vector and document formats) whatever the file is called; those can reference other files or cost unbounded
 * time at a small size, so only these raster formats are decoded.
 */
export function rasterFormat(buf: Buffer): string | undefined {
  const at = (o: number, s: string) => buf.toString('latin1', o, o + s.length) === s;
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (at(0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return 'gif';
  if (at(0, 'RIFF') && at(8, 'WEBP')) return 'webp';
  if (at(0, 'II*\0') || at(0, 'MM\0*')) return 'tiff';
  if (at(4, 'ftyp') && ['avif', 'avis', 'heic', 'heix', 'mif1', 'msf1'].some((b) => at(8, b))) return 'heif';
  return undefined;
}

/** readLimited, then refuses anything but a raster image by its content (not its name). */
export async function readRaster(file: string, what: string, limits: DecodeLimits = {}): Promise<Buffer> {
  const buf = await readLimited(file, what, limits);
  if (!rasterFormat(buf)) {
    const head = buf.toString('latin1', 0, 64).trimStart();
    const kind = /^<(\?xml|svg|!DOCTYPE svg)/i.test(head)
      ? 'SVG/XML'
      : head.startsWith('%PDF')
        ? 'PDF'
        : 'unknown';
    throw new BadInputError(
      file,
      `cannot decode ${what}: content is not a JPEG, PNG, GIF, WebP, TIFF or AVIF/HEIF image (${kind} content; vector and document formats are never decoded)`,
    );
  }
  return buf;
}

/** sharp's limit error as a reason naming the image's size (read from its header) and the setting. */
async function decodeFailure(
  input: Buffer | string,
  err: Error,
  what: string,
  limits: DecodeLimits,
): Promise<string> {
  if (!/pixel limit/i.test(err.message)) return `cannot decode ${what}: ${err.message}`;
  const meta = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  const size =
    meta?.width && meta.height
      ? `${meta.width}x${meta.height} = ${meta.width * meta.height} pixels`
      : 'too many pixels';
  return `${what} is ${size}, over the limit of ${limits.maxPixels ?? DEFAULT_MAX_PIXELS} (maxPixels in the dataset spec); not decoded`;
}

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/**
 * An image file decoded at full size to 8-bit sRGB (so boxes and mask sizes are checked against its true size;
 * resize afterwards with resizeRgb). Throws BadInputError naming the file: over the pixel limit, not a raster
 * image, undecodable or truncated.
 */
export async function decodeRgb(
  file: string,
  limits: DecodeLimits = {},
): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const input = await readRaster(file, 'image', limits);
  const img = await limitedSharp(input, limits)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(async (err: Error) => {
      throw new BadInputError(file, await decodeFailure(input, err, 'image', limits));
    });
  const { width, height, channels } = img.info;
  checkSides(file, 'image', width, height);
  if (channels !== 3) throw new BadInputError(file, `decoded to ${channels} channels, expected 3`);
  return { width, height, rgb: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length) };
}

/** RGB resized to a `size` square: cover + centre crop. */
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

/** A 0/255 mask resized with resizeRgb's geometry (nearest neighbour, so it stays binary and aligned). */
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

/** A mask file (.png: any channel layout, foreground above half the maximum; .npy: see npy.ts) as 0/255. */
export async function decodeMask(
  file: string,
  limits: DecodeLimits = {},
): Promise<{ width: number; height: number; mask: Uint8Array }> {
  const npy = path.extname(file).toLowerCase() === '.npy';
  const buf = npy ? await readLimited(file, 'mask', limits) : await readRaster(file, 'mask', limits);
  if (npy) {
    let m;
    try {
      m = npyToMask(buf, file, limits.maxPixels ?? DEFAULT_MAX_PIXELS);
    } catch (err) {
      throw new BadInputError(file, `cannot read mask: ${(err as Error).message}`);
    }
    checkSides(file, 'mask', m.width, m.height);
    return m;
  }
  const out = await limitedSharp(buf, limits)
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(async (err: Error) => {
      throw new BadInputError(file, await decodeFailure(buf, err, 'mask', limits));
    });
  checkSides(file, 'mask', out.info.width, out.info.height);
  const data = out.data;
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > max) max = data[i]!;
  const mask = new Uint8Array(out.data.length);
  const half = max / 2;
  if (max > 0) for (let i = 0; i < mask.length; i++) mask[i] = data[i]! > half ? 255 : 0;
  return { width: out.info.width, height: out.info.height, mask };
}
