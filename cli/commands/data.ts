import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/config';
import type { DataManifest, ManifestSplit } from '../../core/data/manifest';
import { exportManifest } from '../../core/data/export';
import { classCounts } from '../../core/data/manifest-items';
import { prepareDataset } from '../../core/data/prepare';
import { s3PrefixOpener } from '../../store/s3-prefix-opener';
import { type SourceSpecInput, sourceSpecSchema } from '../../core/data/source-spec';
import { createStore, getJson } from '../../store';
import { FsArtifactStore } from '../../store/fs-store';
import { shardProgressPrinter } from '../shard-progress';
import { printMaskSummary } from './masks';
import { checkLeaks, formatLeakReport } from '../../core/leaks/leak-check';

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${v}`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
};

/** `bgstudy data synth|import|show|check-leaks|export`: put a dataset into the store in its normalized sharded form. */
export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description(
      'prepare datasets: the synthetic ground truth, ImageNet-9, Pixel-ImageNet, your own folders',
    );

  data
    .command('synth')
    .description(
      'generate the synthetic dataset (shapes on backgrounds whose family predicts the class with strength p)',
    )
    // defaults live in the schema (core/data/source-spec.ts); options left out take them
    .option('--classes <n>', 'number of classes, 2..12 (default 9)', int)
    .option('--train <n>', 'training images per class (default 200)', int)
    .option('--val <n>', 'validation images per class (default 50)', int)
    .option('--size <px>', 'image side (default 64)', int)
    .option('-p, --bg-correlation <p>', 'background-class correlation in [0, 1] (default 0.9)', num)
    .option('--seed <n>', 'seed (default 1)', int)
    .option('--generic <n>', 'images in the class-free background pool for generic_bg (default 100)', int)
    .option(
      '--object-scale <min,max>',
      'half the object box side as a fraction of the image side (default 0.28,0.38)',
    )
    .option('--max-rotation <deg>', 'objects rotated within +-deg (default 15; 180 = any)', num)
    .option('--hue-cue <q>', 'probability a background takes its family hue (default 0.4)', num)
    .option('--bg-contrast <d>', 'RGB distance between a background’s two colours (default 40)', num)
    .option('--max-aspect <a>', 'object box aspect drawn within [1/a, a] for every class (default 1.25)', num)
    .option(
      '--shadow <s>',
      'class-dependent factor: share of images with a class-direction cast shadow (default 0)',
      num,
    )
    .option(
      '--distractor <s>',
      'class-dependent factor: share with a class-specific co-occurring object (default 0)',
      num,
    )
    .option(
      '--class-size <s>',
      'class-dependent factor: share whose object size comes from a class band (default 0)',
      num,
    )
    .option('--tar', 'also write PNG tar shards for other tools (or later: bgstudy data export --format tar)')
    .option('--no-tar', 'write only the training shards (the default)')
    .option('--json', 'print the result as JSON')
    .action(
      async (o: {
        classes?: number;
        train?: number;
        val?: number;
        size?: number;
        bgCorrelation?: number;
        seed?: number;
        generic?: number;
        objectScale?: string;
        maxRotation?: number;
        hueCue?: number;
        bgContrast?: number;
        maxAspect?: number;
        shadow?: number;
        distractor?: number;
        classSize?: number;
        tar?: boolean;
        json?: boolean;
      }) => {
        const scale = o.objectScale?.split(',').map(Number);
        const perClass =
          o.train !== undefined || o.val !== undefined
            ? { train: o.train ?? 200, val: o.val ?? 50 }
            : undefined;
        await prepare(
          {
            source: 'synthetic',
            classes: o.classes,
            perClass,
            size: o.size,
            bgCorrelation: o.bgCorrelation,
            seed: o.seed,
            genericCount: o.generic,
            objectScale: scale ? { min: scale[0]!, max: scale[1] ?? scale[0]! } : undefined,
            maxRotation: o.maxRotation,
            hueCue: o.hueCue,
            bgContrast: o.bgContrast,
            maxAspect: o.maxAspect,
            factors: { shadow: o.shadow, distractor: o.distractor, classSize: o.classSize },
          },
          o,
        );
      },
    );

  data
    .command('import')
    .description('import images + foreground masks from local folders')
    .argument('<source>', 'folder | in9 | pixel-imagenet, or a JSON file with a full source spec')
    .option('--path <dir>', 'folder, in9: the data root (a folder or s3://bucket/prefix)')
    .option(
      '--url <url>',
      'in9: a .tar.gz of the data root (downloaded once into $BGSTUDY_HOME/cache, resumable)',
    )
    .option('--sha256 <hex>', "in9 --url: the archive's expected sha256")
    .option('--mask-path <dir>', 'folder: the mask tree (same layout as --path; also s3://...)')
    .option('--images <dir>', 'pixel-imagenet: ImageNet images, <dir>/<wnid>/*.JPEG')
    .option('--masks <dir>', 'pixel-imagenet: Pixel-ImageNet masks, <dir>/<wnid>/*.png')
    .option('--wnids <list>', 'pixel-imagenet: comma-separated WordNet ids, in label order')
    .option('--classes <list>', 'folder: comma-separated class folders, in label order (others are skipped)')
    .option('--variant <name>', 'in9: which variant folder holds the images', 'original')
    .option('--size <px>', 'resize (cover) to a square of this side', int)
    .option('--max-per-class <n>', 'at most n images per class and split', int)
    .option('--val-fraction <f>', 'folder, pixel-imagenet: share of each class held out for val', num)
    .option('--generic-path <dir>', 'a folder of class-free background images for generic_bg')
    .option('--max-pixels <n>', 'skip images and masks with more pixels (default 40000000)', int)
    .option('--max-download-bytes <n>', 'in9 --url: largest archive accepted (default 16 GiB)', int)
    .option('--tar', 'also write PNG tar shards for other tools (or later: bgstudy data export --format tar)')
    .option('--no-tar', 'write only the training shards (the default)')
    .option('--json', 'print the result as JSON')
    .action(async (source: string, o: Record<string, string | number | boolean | undefined>) => {
      const common = {
        size: o.size,
        maxPerClass: o.maxPerClass,
        genericPath: o.genericPath,
        valFraction: o.valFraction,
        maxPixels: o.maxPixels,
      };
      const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : undefined);
      let spec: unknown;
      if (source.endsWith('.json')) spec = JSON.parse(await readFile(source, 'utf8'));
      else if (source === 'folder')
        spec = { source, path: o.path, maskPath: o.maskPath, classes: list(o.classes), ...common };
      else if (source === 'in9')
        spec = {
          source,
          path: o.path,
          url: o.url,
          sha256: o.sha256,
          variant: o.variant,
          size: o.size,
          maxPerClass: o.maxPerClass,
          genericPath: o.genericPath,
          maxPixels: o.maxPixels,
          maxDownloadBytes: o.maxDownloadBytes,
        };
      else if (source === 'pixel-imagenet')
        spec = { source, imagesPath: o.images, masksPath: o.masks, wnids: list(o.wnids), ...common };
      else throw new Error(`unknown source "${source}" (folder, in9, pixel-imagenet or a .json spec)`);
      const parsed = sourceSpecSchema.safeParse(spec);
      if (!parsed.success)
        throw new Error(
          `invalid ${source} source: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      await prepare(parsed.data, o);
    });

  data
    .command('check-leaks')
    .description(
      'how much of the class simple non-CNN learners read from background-only images (only_bg_b, only_bg_t): accuracy vs chance, 95% intervals',
    )
    .argument('<manifestKey>', 'a dataset manifest, e.g. datasets/<hash>/manifest.json')
    .option('--max-per-class <n>', 'at most n images per class from each split (default 500)', int)
    .option('--k <n>', 'neighbours of the k-NN learner (default 15)', int)
    .option('--json', 'print the report as JSON')
    .action(async (key: string, o: { maxPerClass?: number; k?: number; json?: boolean }) => {
      const store = createStore(loadConfig().store);
      try {
        const r = await checkLeaks(store, key, { maxPerClass: o.maxPerClass, k: o.k });
        if (o.json) console.log(JSON.stringify(r.report, null, 1));
        else {
          for (const line of formatLeakReport(r.report)) console.log(line);
          console.log(`${r.reused ? 'found' : 'stored'}: ${store.location}/${r.key}`);
        }
      } finally {
        await store.close();
      }
    });

  data
    .command('export')
    .description(
      "write a dataset's or variant's pixels into a folder as shards (the store keeps a variant as its pairing only; readers compute the pixels)",
    )
    .argument('<manifestKey>', 'e.g. variants/<dataset>/<name>/<hash>/manifest.json')
    .requiredOption('--out <dir>', 'output folder (a store of its own: manifest.json + shards)')
    .option('--split <list>', 'comma-separated splits (default: all)')
    .option('--format <f>', 'raw (lossless shards) | tar (PNG + mask PNG + index.json)', 'raw')
    .action(async (key: string, o: { out: string; split?: string; format: string }) => {
      if (o.format !== 'raw' && o.format !== 'tar')
        throw new Error(`--format must be raw or tar, got "${o.format}"`);
      const store = createStore(loadConfig().store);
      try {
        const r = await exportManifest(store, key, new FsArtifactStore(path.resolve(o.out)), {
          splits: o.split?.split(',') as ManifestSplit[] | undefined,
          format: o.format,
        });
        const n = Object.values(r.manifest.splits).reduce((a, d) => a + d.count, 0);
        console.log(`${n} images in ${r.files} files -> ${path.resolve(o.out)}`);
      } finally {
        await store.close();
      }
    });

  data
    .command('show')
    .description('summarize a dataset or variant manifest in the store')
    .argument('<manifestKey>', 'e.g. datasets/<hash>/manifest.json')
    .option('--skipped', 'list every skipped file')
    .action(async (key: string, o: { skipped?: boolean }) => {
      const store = createStore(loadConfig().store);
      try {
        const m = await getJson<DataManifest>(store, key);
        console.log(
          `${m.kind} ${m.hash} (dataset ${m.datasetHash}), ${m.classes.length} classes: ${m.classes.join(', ')}`,
        );
        for (const [split, d] of Object.entries(m.splits) as [
          ManifestSplit,
          NonNullable<DataManifest['splits']['train']>,
        ][]) {
          const perClass =
            split === 'generic'
              ? ''
              : `; per class ${(await classCounts(store, d, m.classes.length)).join('/')}`;
          console.log(`  ${split}: ${d.count} images in ${d.shards.length} shards${perClass}`);
        }
        if (m.generatedFrom)
          console.log(
            `  pixels: computed when read, from ${m.generatedFrom} (bgstudy data export writes them)`,
          );
        console.log(`  skipped: ${m.skipped.length}`);
        for (const s of o.skipped ? m.skipped : m.skipped.slice(0, 10))
          console.log(`    ${s.file}: ${s.reason}`);
        if (m.masks) printMaskSummary(m.masks, o.skipped === true);
      } finally {
        await store.close();
      }
    });
}

async function prepare(spec: SourceSpecInput, o: { tar?: boolean; json?: boolean }): Promise<void> {
  const config = loadConfig();
  const store = createStore(config.store);
  const progress = shardProgressPrinter('dataset');
  try {
    let lastFetch = 0;
    const r = await prepareDataset(store, spec, {
      tar: o.tar ?? false,
      onProgress: progress.onProgress,
      cacheDir: path.join(config.homeDir, 'cache'),
      openS3: s3PrefixOpener(config.store),
      onFetchProgress: (p) => {
        if (Date.now() - lastFetch < 1000) return;
        lastFetch = Date.now();
        const mb = (b: number) => (b / 2 ** 20).toFixed(0);
        process.stderr.write(`${p.phase} ${mb(p.bytes)}${p.total ? `/${mb(p.total)}` : ''} MiB\n`);
      },
    });
    progress.stop();
    if (o.json) {
      console.log(JSON.stringify(r, null, 1));
      return;
    }
    console.log(
      `${r.reused ? 'found' : 'prepared'} dataset ${r.datasetHash}: ${r.classes.length} classes, ${Object.entries(
        r.counts,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    console.log(`manifest: ${store.location}/${r.manifestKey}`);
    if (r.skippedCount) {
      console.log(`skipped ${r.skippedCount} file(s):`);
      for (const s of r.skipped) console.log(`  ${s.file}: ${s.reason}`);
      if (r.skippedCount > r.skipped.length)
        console.log(`  ... (bgstudy data show ${r.manifestKey} --skipped)`);
    }
  } finally {
    progress.stop();
    await store.close();
  }
}
