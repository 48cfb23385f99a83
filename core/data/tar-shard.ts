import sharp from 'sharp';
import { pack } from 'tar-stream';
import type { Sample } from './sample';
import type { ItemMeta } from './manifest';

/**
 * WebDataset-style tar shard for people and other tools: `index.json` (the items), then per sample
 * `<key>.png` (RGB), `<key>.mask.png` (8-bit, 255 = foreground) and `<key>.json` (its item). Keys are
 * positional (`000042`) because ids contain '/'.
 */
export async function encodeTarShard(
  samples: Sample[],
  items: ItemMeta[],
  firstIndex: number,
): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  const entry = (name: string, body: Buffer) =>
    new Promise<void>((resolve, reject) =>
      p.entry({ name, size: body.length, mtime: new Date(0) }, body, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  await entry('index.json', Buffer.from(JSON.stringify(items)));
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const key = String(firstIndex + i).padStart(6, '0');
    await entry(`${key}.png`, await encodePng(s.rgb, s.width, s.height, 3));
    if (s.mask) await entry(`${key}.mask.png`, await encodePng(s.mask, s.width, s.height, 1));
    await entry(`${key}.json`, Buffer.from(JSON.stringify(items[i])));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function encodePng(data: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  return sharp(data, { raw: { width, height, channels } }).png({ compressionLevel: 3 }).toBuffer();
}
