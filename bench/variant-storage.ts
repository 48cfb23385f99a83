/**
 * `npm run bench:storage`: store bytes and read speed of Xiao et al.'s eight variants kept as pixels (raw shards,
 * what the variants stage wrote before) and as their pairing only (computed when read), side by side in one run
 * on one synthetic dataset. Prints a Markdown table; `--write` puts it in bench/RESULTS.md (its own section).
 *
 * usage: npx tsx bench/variant-storage.ts [--size 64] [--train 400] [--val 100] [--cache-mb 32] [--write]
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareDataset } from '../core/data/prepare';
import { openSampleSource } from '../core/data/sample-source';
import { materializeVariant } from '../core/variants/materialize';
import { XIAO_VARIANTS } from '../core/variants/variant-spec';
import { FsArtifactStore } from '../store/fs-store';
import { machineLine, writeSection } from './results-file';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const SIZE = Number(arg('size', '64'));
const TRAIN = Number(arg('train', '400'));
const VAL = Number(arg('val', '100'));
const CACHE = Number(arg('cache-mb', '32')) * 2 ** 20;

async function bytesUnder(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += (await stat(path.join(e.parentPath, e.name))).size;
  return n;
}

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
      const dataset = await bytesUnder(path.join(dir, 'datasets'));
      const variants = await bytesUnder(path.join(dir, 'variants'));
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
      '',
      `Command: \`npx tsx bench/variant-storage.ts --size ${SIZE} --train ${TRAIN} --val ${VAL} --cache-mb ${CACHE / 2 ** 20}\`.`,
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
