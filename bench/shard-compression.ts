/**
 * What a dataset's two stored copies cost, and what lossless compression of the raw shards would: for one synthetic
 * dataset, bytes per image of the raw shards (decoded pixels and masks, what training reads), of the PNG tar shards,
 * and of the raw shards under Node's built-in deflate and brotli, with decode speed on one thread (images/s) beside
 * PNG decoding with sharp. Two rounds each. Prints a Markdown table; measures only, changes nothing stored (issue 21,
 * item 2: store bytes within 2x of the images' own size).
 *
 * usage: npx tsx bench/shard-compression.ts [--size 224] [--train 50] [--val 15]
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { extract } from 'tar-stream';
import { prepareDataset } from '../core/data/prepare';
import { FsArtifactStore } from '../store/fs-store';
import { machineLine } from './results-file';
import { arg } from './args';

const SIZE = Number(arg('size', '224'));
const TRAIN = Number(arg('train', '50'));
const VAL = Number(arg('val', '15'));

const brotli = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } };
const CODECS: { name: string; encode: (b: Buffer) => Buffer; decode: (b: Buffer) => Buffer }[] = [
  {
    name: 'deflate, level 1',
    encode: (b) => zlib.deflateRawSync(b, { level: 1 }),
    decode: zlib.inflateRawSync,
  },
  {
    name: 'deflate, level 6',
    encode: (b) => zlib.deflateRawSync(b, { level: 6 }),
    decode: zlib.inflateRawSync,
  },
  {
    name: 'brotli, quality 4',
    encode: (b) => zlib.brotliCompressSync(b, brotli),
    decode: (b) => zlib.brotliDecompressSync(b),
  },
];

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** The PNG files of a tar shard, by name. */
async function pngsOf(tar: Buffer): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (header.name.endsWith('.png')) out.push(Buffer.concat(chunks));
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    Readable.from(tar).pipe(ex);
  });
  return out;
}

async function main(): Promise<void> {
  const load0 = os.loadavg()[0]!.toFixed(2);
  const root = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-compression-'));
  try {
    const store = new FsArtifactStore(root);
    const ds = await prepareDataset(store, {
      source: 'synthetic',
      classes: 9,
      perClass: { train: TRAIN, val: VAL },
      size: SIZE,
      seed: 1,
    });
    const images = (ds.counts.train ?? 0) + (ds.counts.val ?? 0);
    const shards = path.join(root, path.dirname(ds.manifestKey), 'shards');
    const files = (await readdir(shards)).filter((f) => !f.startsWith('generic'));
    const raws = await Promise.all(
      files.filter((f) => f.endsWith('.bgraw')).map((f) => readFile(path.join(shards, f))),
    );
    const tars = await Promise.all(
      files.filter((f) => f.endsWith('.tar')).map((f) => readFile(path.join(shards, f))),
    );
    const rawBytes = raws.reduce((n, b) => n + b.length, 0);
    const perImage = (bytes: number) => `${(bytes / images / 1024).toFixed(1)}`;
    const rows: string[] = [
      `| raw shards, as stored | ${perImage(rawBytes)} | 1.00x | |`,
      `| PNG tar shards, as stored | ${perImage(tars.reduce((n, b) => n + b.length, 0))} | | |`,
    ];
    for (const c of CODECS) {
      let size = 0;
      const rates: string[] = [];
      for (let round = 0; round < 2; round++) {
        const packed = raws.map((b) => c.encode(b));
        size = packed.reduce((n, b) => n + b.length, 0);
        const t0 = performance.now();
        packed.forEach((p, i) => {
          if (!c.decode(p).equals(raws[i]!)) throw new Error(`${c.name}: a shard did not round-trip`);
        });
        rates.push((images / seconds(t0)).toFixed(0));
      }
      rows.push(
        `| raw shards, ${c.name} | ${perImage(size)} | ${(rawBytes / size).toFixed(2)}x smaller | ${rates.join(', ')} |`,
      );
    }
    const pngs = (await Promise.all(tars.map(pngsOf))).flat();
    const pngRates: string[] = [];
    for (let round = 0; round < 2; round++) {
      const t0 = performance.now();
      for (const p of pngs) await sharp(p).raw().toBuffer();
      pngRates.push((images / seconds(t0)).toFixed(0));
    }
    rows.push(`| PNG tar shards, decoded with sharp (image and mask) | | | ${pngRates.join(', ')} |`);
    console.log(
      [
        `### Dataset shards: stored copies and lossless compression (${images} synthetic images at ${SIZE} px)`,
        '',
        `Load average (1 min) ${load0} at start, ${os.loadavg()[0]!.toFixed(2)} at end; ${machineLine()}.`,
        '',
        '| shards | KiB per image | vs raw | decode, images/s on one thread (two rounds) |',
        '|---|---|---|---|',
        ...rows,
        '',
        `Command: \`npx tsx bench/shard-compression.ts --size ${SIZE} --train ${TRAIN} --val ${VAL}\`.`,
      ].join('\n'),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
