/**
 * `npm run bench:shards`: the dataset's training shards as stored now (raw-shard version 2, each image and mask
 * deflated) against version 1 (the decoded bytes as they are, what was stored before) and against the images'
 * own size (their PNGs, as the `--tar` shards hold them), side by side on one synthetic dataset:
 * bytes per image, read speed (every epoch re-reads its shards: a cache smaller than the split) and training
 * images/s through the trainModel activity, the stores alternating, two rounds; and whether both stores gave
 * bit-identical curves and weights. Prints a Markdown table; `--write` puts it in bench/RESULTS.md.
 *
 * `--store <folder>` measures an existing local store instead (e.g. bench:scale's IN-9-sized one): its datasets'
 * shard bytes against the same images encoded as PNG, and the bytes of its datasets/ and variants/ folders.
 *
 * usage: npx tsx bench/shard-format.ts [--size 224] [--train 50] [--val 15] [--train-epochs 1] [--write]
 *        npx tsx bench/shard-format.ts --store <folder>
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { createGpuActivities } from '../activities/gpu-activities';
import type { DataManifest } from '../core/data/manifest';
import { prepareDataset } from '../core/data/prepare';
import { decodeRawShard, readRawShard } from '../core/data/raw-shard';
import type { Sample } from '../core/data/sample';
import { encodePng } from '../core/data/tar-shard';
import { mapLimit } from '../common/map-limit';
import { openSampleSource } from '../core/data/sample-source';
import { FsArtifactStore } from '../store/fs-store';
import { getJson } from '../store/json';
import { arg } from './args';
import { filesUnder, folderBytes, trainSmallCnn } from './harness';
import { machineLine, writeSection } from './results-file';

const SIZE = Number(arg('size', '224'));
const TRAIN = Number(arg('train', '50'));
const VAL = Number(arg('val', '15'));
const EPOCHS = Number(arg('train-epochs', '1'));
const CLASSES = 9;
/** A cache over one shard (~64 MiB decoded) and under the split: each epoch loads its shards whole, again. */
const WHOLE_MIB = 96;

/** Raw-shard version 1 from its documented layout (core/data/raw-shard.ts): what datasets stored before. */
function v1Shard(samples: Sample[]): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      samples: samples.map((s) => ({
        id: s.id,
        label: s.label,
        width: s.width,
        height: s.height,
        mask: s.mask !== undefined,
      })),
    }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  const body = samples.flatMap((s) => [s.rgb, ...(s.mask ? [s.mask] : [])]);
  return Buffer.concat([Buffer.from('BGRAW\0\0\u0001', 'latin1'), len, header, ...body]);
}

/** Bytes of the PNG files in a tar shard (the images and masks, without tar's headers). */
async function pngBytes(tar: Buffer): Promise<number> {
  let n = 0;
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    if (header.name.endsWith('.png')) n += header.size ?? 0;
    stream.on('end', next);
    stream.resume();
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    Readable.from(tar).pipe(ex);
  });
  return n;
}

/**
 * Two shuffled epochs of the train split with a cache smaller than the split, so each epoch reads and decodes its
 * shards again: whole shards (a cache over one shard) or streamed one sample at a time (a cache under one shard).
 */
async function readSpeed(store: FsArtifactStore, key: string, cacheMiB: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  const src = await openSampleSource(store, key, 'train', { cacheBytes: cacheMiB * 2 ** 20 });
  for (const seed of [1, 2])
    for await (const s of src.iterate({ shuffleSeed: seed })) n += s.width > 0 ? 1 : 0;
  return n / ((performance.now() - t0) / 1000);
}

/** An existing store: its datasets' shards and folders against the same images as PNG (as `--tar` writes them). */
async function measureStore(dir: string): Promise<void> {
  const store = new FsArtifactStore(dir);
  let images = 0;
  let png = 0;
  let shards = 0;
  for (const key of await store.list('datasets/')) {
    if (!key.endsWith('.bgraw')) continue;
    shards += (await store.stat(key))!.size;
    const batch: Sample[] = [];
    const flush = async () => {
      const sizes = await mapLimit(batch.splice(0), 8, async (s) => {
        const rgb = await encodePng(s.rgb, s.width, s.height, 3);
        return rgb.length + (s.mask ? (await encodePng(s.mask, s.width, s.height, 1)).length : 0);
      });
      png += sizes.reduce((a, b) => a + b, 0);
    };
    for await (const s of readRawShard(await store.getStream(key), key)) {
      images++;
      batch.push(s);
      if (batch.length === 32) await flush();
    }
    await flush();
  }
  const datasets = await folderBytes(path.join(dir, 'datasets'));
  const variants = await folderBytes(path.join(dir, 'variants')).catch(() => 0);
  const all = await folderBytes(dir);
  const b = (n: number) => n.toLocaleString('en-US');
  console.log(
    [
      `| ${dir} | bytes | per image |`,
      '|---|---|---|',
      `| the images as PNG (image + mask) | ${b(png)} | ${b(Math.round(png / images))} |`,
      `| datasets/ shards (.bgraw) | ${b(shards)} | ${b(Math.round(shards / images))} |`,
      `| datasets/ | ${b(datasets)} | ${b(Math.round(datasets / images))} |`,
      `| variants/ | ${b(variants)} | ${b(Math.round(variants / images))} |`,
      `| whole store | ${b(all)}: ${(all / png).toFixed(4)}x the PNGs | ${b(Math.round(all / images))} |`,
      '',
      `${images} images in the datasets' shards.`,
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const existing = arg('store', '');
  if (existing) return measureStore(existing);
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const load0 = load();
  const root = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-shard-format-'));
  try {
    // version 2 as the dataset stage writes it, with the PNG tar shards for the images' own size
    const v2Dir = path.join(root, 'v2');
    const v2 = new FsArtifactStore(v2Dir);
    const spec = {
      source: 'synthetic',
      classes: CLASSES,
      perClass: { train: TRAIN, val: VAL },
      size: SIZE,
      seed: 1,
      genericCount: 0,
    } as const;
    const ds = await prepareDataset(v2, spec, { tar: true });
    const manifest = await getJson<DataManifest>(v2, ds.manifestKey);
    // the same store with every shard rewritten in version 1 (same keys, indexes and manifest)
    const v1Dir = path.join(root, 'v1');
    const v1 = new FsArtifactStore(v1Dir);
    let png = 0;
    let bytesV2 = 0;
    let bytesV1 = 0;
    for (const key of await v2.list('')) {
      const buf = await v2.get(key);
      if (key.endsWith('.tar')) {
        png += await pngBytes(buf);
        continue;
      }
      const out = key.endsWith('.bgraw') ? v1Shard(await decodeRawShard(buf, key)) : buf;
      if (key.endsWith('.bgraw')) {
        bytesV2 += buf.length;
        bytesV1 += out.length;
      }
      await v1.put(key, out);
    }
    const images = Object.values(manifest.splits).reduce((n, s) => n + s.count, 0);
    const storeV2 = (await folderBytes(v2Dir)) - (await tarBytes(v2Dir));
    const storeV1 = await folderBytes(v1Dir);

    const stores = [
      { name: 'version 2 (deflated, now)', store: v2, dir: v2Dir },
      { name: 'version 1 (bytes as they are, before)', store: v1, dir: v1Dir },
    ];
    const reads = new Map<string, { whole: number[]; streamed: number[] }>();
    const trains = new Map<string, number[]>();
    const identical: boolean[] = [];
    const gpus = stores.map((s) => createGpuActivities({ store: s.store }));
    for (let round = 0; round < 2; round++) {
      const fingerprints: string[] = [];
      for (const [i, s] of stores.entries()) {
        const r = reads.get(s.name) ?? { whole: [], streamed: [] };
        r.whole.push(await readSpeed(s.store, ds.manifestKey, WHOLE_MIB));
        r.streamed.push(await readSpeed(s.store, ds.manifestKey, 8));
        reads.set(s.name, r);
        if (EPOCHS > 0) {
          const t = await trainSmallCnn(gpus[i]!, s.dir, {
            name: 'shard-format',
            label: 'small_cnn on original',
            key: ds.manifestKey,
            size: SIZE,
            classes: CLASSES,
            epochs: EPOCHS,
            seed: round + 1,
            images: CLASSES * TRAIN,
          });
          trains.set(s.name, [...(trains.get(s.name) ?? []), t.imgPerS]);
          fingerprints.push(t.fingerprint);
        }
      }
      if (EPOCHS > 0) identical.push(fingerprints.every((f) => f === fingerprints[0]));
    }
    const kib = (n: number) => (n / images / 1024).toFixed(1);
    const fmt = (xs: number[] | undefined) => (xs ?? []).map((x) => x.toFixed(0)).join(', ');
    const text = [
      `### Dataset shards: version 2 (deflated) vs version 1 vs the images' PNGs (${images} synthetic images at ${SIZE} px)`,
      '',
      `Load average (1/5/15 min) ${load0} at start, ${load()} at end; ${machineLine()}.`,
      '',
      '| stored as | KiB per image | store / PNGs | read whole shards, images/s | read streamed, images/s | training, images/s |',
      '|---|---|---|---|---|---|',
      `| the images as PNG (image + mask, the \`--tar\` shards' files) | ${kib(png)} | 1.00x | | | |`,
      ...stores.map(
        (st, i) =>
          `| ${st.name} | ${kib([bytesV2, bytesV1][i]!)} | ${([storeV2, storeV1][i]! / png).toFixed(2)}x | ${fmt(reads.get(st.name)?.whole)} | ${fmt(reads.get(st.name)?.streamed)} | ${fmt(trains.get(st.name))} |`,
      ),
      '',
      `"store / PNGs": every file of the store (shards, indexes, manifest; no tar) over the PNG bytes. Each speed:`,
      `two rounds, the stores alternating. Read: two shuffled epochs of the train split through openSampleSource,`,
      `decoding every shard in each epoch: whole shards with a ${WHOLE_MIB} MiB cache (over one shard, under the split),`,
      `streamed sample by sample with an 8 MiB cache (under one shard).`,
      `Training: small_cnn, ${EPOCHS} epoch(s) with validation, batch 32, trainModel on this machine's`,
      `default engine, seeds 1 and 2; curves and weights bit-identical between the two stores: ${identical.length ? identical.map((x) => (x ? 'yes' : 'NO')).join(', ') : 'not trained'}.`,
      '',
      `Command: \`npx tsx bench/shard-format.ts --size ${SIZE} --train ${TRAIN} --val ${VAL} --train-epochs ${EPOCHS}\`.`,
    ].join('\n');
    console.log(text);
    if (process.argv.includes('--write')) writeSection('shard-format', text);
    if (identical.includes(false)) process.exitCode = 1;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function tarBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await filesUnder(dir)) if (f.endsWith('.tar')) n += (await stat(f)).size;
  return n;
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
