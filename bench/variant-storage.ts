/**
 * `npm run bench:storage`: store bytes and read speed of Xiao et al.'s eight variants kept as pixels (raw shards,
 * what the variants stage wrote before) and as their pairing only (computed when read), side by side in one run
 * on one synthetic dataset. Prints a Markdown table; `--write` puts it in bench/RESULTS.md (its own section).
 * `--train-epochs N` also trains small_cnn on mixed_rand from each store through the trainModel activity (the
 * GPU worker's, on this machine's default engine), two rounds alternating the stores: images/s and whether the
 * two stores gave bit-identical curves and weights.
 *
 * usage: npx tsx bench/variant-storage.ts [--size 64] [--train 400] [--val 100] [--cache-mb 32] [--train-epochs 0] [--write]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareDataset } from '../core/data/prepare';
import { openSampleSource } from '../core/data/sample-source';
import { materializeVariant } from '../core/variants/materialize';
import { XIAO_VARIANTS } from '../core/variants/variant-spec';
import { createGpuActivities } from '../activities/gpu-activities';
import { FsArtifactStore } from '../store/fs-store';
import { folderBytes, trainSmallCnn } from './harness';
import { machineLine, writeSection } from './results-file';
import { arg } from './args';

const SIZE = Number(arg('size', '64'));
const TRAIN = Number(arg('train', '400'));
const VAL = Number(arg('val', '100'));
const CACHE = Number(arg('cache-mb', '32')) * 2 ** 20;
const TRAIN_EPOCHS = Number(arg('train-epochs', '0'));

async function readAll(store: FsArtifactStore, keys: string[], cacheBytes?: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for (const key of keys) {
    const src = await openSampleSource(store, key, 'train', { cacheBytes });
    // two epochs: the first fills the cache, the second reads from it when the split fits
    for (const seed of [1, 2])
      for await (const s of src.iterate({ shuffleSeed: seed })) n += s.width > 0 ? 1 : 0;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const load0 = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const root = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-storage-'));
  const source = {
    source: 'synthetic',
    classes: 9,
    perClass: { train: TRAIN, val: VAL },
    size: SIZE,
    seed: 1,
  } as const;
  const modes = [
    { name: 'pixels (before)', storePixels: true },
    { name: 'pairing only (now)', storePixels: false },
  ];
  const rows: string[] = [];
  const measured: { name: string; keys: string[]; store: FsArtifactStore; dir: string }[] = [];
  try {
    for (const m of modes) {
      const dir = path.join(root, m.storePixels ? 'pixels' : 'pairing');
      const store = new FsArtifactStore(dir);
      const ds = await prepareDataset(store, source);
      const t0 = performance.now();
      const keys: string[] = [];
      for (const v of XIAO_VARIANTS)
        keys.push(
          (await materializeVariant(store, { datasetManifestKey: ds.manifestKey, variant: v }, m))
            .manifestKey,
        );
      const stageS = (performance.now() - t0) / 1000;
      const dataset = await folderBytes(path.join(dir, 'datasets'));
      const variants = await folderBytes(path.join(dir, 'variants'));
      measured.push({ name: m.name, keys, store, dir });
      rows.push(
        `| ${m.name} | ${(dataset / 1e6).toFixed(1)} | ${(variants / 1e6).toFixed(1)} | ${((dataset + variants) / dataset).toFixed(2)}x | ${stageS.toFixed(1)} |`,
      );
    }
    // read speed, alternating the two stores so that both see the same machine load
    const speed = new Map<string, { fits: number[]; over: number[] }>();
    for (let round = 0; round < 2; round++)
      for (const m of measured) {
        const s = speed.get(m.name) ?? { fits: [], over: [] };
        s.fits.push(await readAll(m.store, m.keys));
        s.over.push(await readAll(m.store, m.keys, CACHE));
        speed.set(m.name, s);
      }
    // training, alternating the stores; each round a new seed, so nothing is reused from the round before
    const training = new Map<string, number[]>();
    const identical: boolean[] = [];
    const mixedRand = XIAO_VARIANTS.indexOf('mixed_rand');
    // one set of GPU activities per store, so the engine starts once per store, not once per run
    const gpus = measured.map((m) => createGpuActivities({ store: m.store }));
    for (let round = 0; TRAIN_EPOCHS > 0 && round < 2; round++) {
      const fingerprints: string[] = [];
      for (const [i, m] of measured.entries()) {
        const r = await trainSmallCnn(gpus[i]!, m.dir, {
          name: 'storage',
          label: 'small_cnn on mixed_rand',
          key: m.keys[mixedRand]!,
          size: SIZE,
          classes: 9,
          epochs: TRAIN_EPOCHS,
          seed: round + 1,
          images: 9 * TRAIN,
        });
        training.set(m.name, [...(training.get(m.name) ?? []), r.imgPerS]);
        fingerprints.push(r.fingerprint);
      }
      identical.push(fingerprints.every((x) => x === fingerprints[0]));
    }
    const load1 = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    const n = 9 * (TRAIN + VAL);
    const text = [
      `### Variant storage: pixels vs pairing only (${n} synthetic images at ${SIZE} px, 8 Xiao variants, one run)`,
      '',
      `Load average at start ${load0}, at end ${load1} (1/5/15 min; a shared 2-core machine).`,
      '',
      '| variants kept as | dataset MB | variants MB | store / dataset | variants stage s |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `Read speed, train split of all 8 variants, 2 shuffled epochs each, images/s (two rounds, alternating):`,
      '',
      '| variants kept as | split fits the reader cache (512 MiB) | cache of ' +
        CACHE / 2 ** 20 +
        ' MiB (recomputed every epoch) |',
      '|---|---|---|',
      ...measured.map(
        (m) => `| ${m.name} | ${fmt(speed.get(m.name)!.fits)} | ${fmt(speed.get(m.name)!.over)} |`,
      ),
      ...(TRAIN_EPOCHS > 0
        ? [
            '',
            `Training small_cnn on mixed_rand, ${TRAIN_EPOCHS} epoch(s) with validation, batch 32, trainModel on the default engine, images/s (two rounds, alternating, seeds 1 and 2):`,
            '',
            '| variants kept as | training images/s |',
            '|---|---|',
            ...measured.map((m) => `| ${m.name} | ${fmt(training.get(m.name)!)} |`),
            '',
            `Curves and weights identical between the two stores (per round): ${identical.map((x) => (x ? 'yes' : 'NO')).join(', ')}.`,
          ]
        : []),
      '',
      `Command: \`npx tsx bench/variant-storage.ts --size ${SIZE} --train ${TRAIN} --val ${VAL} --cache-mb ${CACHE / 2 ** 20}${TRAIN_EPOCHS > 0 ? ` --train-epochs ${TRAIN_EPOCHS}` : ''}\`.`,
    ].join('\n');
    console.log(text);
    if (process.argv.includes('--write'))
      writeSection('variant-storage', `${text}\n\nMachine: ${machineLine()}.`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
