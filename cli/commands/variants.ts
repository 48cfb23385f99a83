import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../config/config';
import type { ManifestSplit } from '../../core/data/manifest';
import { openSampleSource } from '../../core/data/sample-source';
import { describeVariants, variantsText } from '../../core/variants/describe';
import { materializeVariant } from '../../core/variants/materialize';
import {
  ALL_VARIANTS_DEFAULT,
  parseVariantArg,
  type VariantSpec,
  variantSpecSchema,
  XIAO_VARIANTS,
} from '../../core/variants/variant-spec';
import { createStore } from '../../store';
import { shardProgressPrinter } from '../shard-progress';

function expand(args: string[]): VariantSpec[] {
  return args.flatMap((a) =>
    a === 'xiao'
      ? XIAO_VARIANTS.map((v) => variantSpecSchema.parse(v))
      : a === 'all'
        ? ALL_VARIANTS_DEFAULT.map((v) => variantSpecSchema.parse(v))
        : [parseVariantArg(a)],
  );
}

/** `bgstudy variants make|list|export`: generate background variants of a prepared dataset. */
export function registerVariants(program: Command): void {
  const variants = program
    .command('variants')
    .description('generate background variants (only_fg, mixed_rand, bg_blur, ...) of a prepared dataset');

  variants
    .command('make', { isDefault: true })
    .description('generate variants; each is stored once per (dataset, variant, params, seed)')
    .argument('<datasetManifestKey>', 'e.g. datasets/<hash>/manifest.json (printed by bgstudy data ...)')
    .argument(
      '[variants...]',
      'names or name:key=value,... (bg_blur:sigma=4, bg_reduced:r=0.2, fg_mask_quality:op=erode,k=2, fg_mask_quality:op=grabcut, bg_color:color=match); "xiao" or "all" for sets',
      ['xiao'],
    )
    .option('--seed <n>', 'pairing seed for mixed_* and generic_bg', (v) => Number.parseInt(v, 10), 0)
    .option('--tar', 'also write PNG tar shards')
    .option('--json', 'print the results as JSON')
    .action(
      async (
        datasetManifestKey: string,
        names: string[],
        o: { seed: number; tar?: boolean; json?: boolean },
      ) => {
        const specs = expand(names);
        const store = createStore(loadConfig().store);
        const results = [];
        try {
          for (const variant of specs) {
            const progress = shardProgressPrinter(variant.name);
            const t0 = Date.now();
            const r = await materializeVariant(
              store,
              { datasetManifestKey, variant, seed: o.seed },
              { tar: o.tar, onProgress: progress.onProgress },
            );
            progress.stop();
            results.push(r);
            const n = Object.values(r.counts).reduce((a, b) => a + b, 0);
            if (!o.json)
              console.log(
                `${r.reused ? 'found    ' : 'generated'} ${r.label.padEnd(34)} ${String(n).padStart(6)} images ${r.reused ? '' : `in ${((Date.now() - t0) / 1000).toFixed(1)} s`}  ${r.manifestKey}`,
              );
          }
          if (o.json) console.log(JSON.stringify(results, null, 1));
        } finally {
          await store.close();
        }
      },
    );

  variants
    .command('list')
    .description('every variant with its definition and parameters (what make and a study spec accept)')
    .option('--json', 'print them as JSON')
    .action((o: { json?: boolean }) => {
      const infos = describeVariants();
      console.log(o.json ? JSON.stringify(infos, null, 1) : variantsText(infos));
    });

  variants
    .command('export')
    .description('write the first images of a dataset or variant as one PNG contact sheet, to look at')
    .argument('<manifestKey>')
    .option('--split <split>', 'train | val | generic', 'val')
    .option('--n <n>', 'images', (v) => Number.parseInt(v, 10), 32)
    .option('--out <file>', 'output PNG', 'contact-sheet.png')
    .action(async (key: string, o: { split: ManifestSplit; n: number; out: string }) => {
      const store = createStore(loadConfig().store);
      try {
        const src = await openSampleSource(store, key, o.split);
        const tiles: { rgb: Uint8Array; w: number; h: number }[] = [];
        for await (const s of src.iterate()) {
          tiles.push({ rgb: s.rgb, w: s.width, h: s.height });
          if (tiles.length >= o.n) break;
        }
        if (!tiles.length) throw new Error(`${key} has no ${o.split} images`);
        const w = Math.max(...tiles.map((t) => t.w));
        const h = Math.max(...tiles.map((t) => t.h));
        const cols = Math.ceil(Math.sqrt(tiles.length));
        const rows = Math.ceil(tiles.length / cols);
        const sheet = new Uint8Array(cols * w * rows * h * 3);
        tiles.forEach((t, i) => {
          const ox = (i % cols) * w;
          const oy = Math.floor(i / cols) * h;
          for (let y = 0; y < t.h; y++)
            sheet.set(t.rgb.subarray(y * t.w * 3, (y + 1) * t.w * 3), ((oy + y) * cols * w + ox) * 3);
        });
        await mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
        await sharp(sheet, { raw: { width: cols * w, height: rows * h, channels: 3 } })
          .png()
          .toFile(o.out);
        console.log(`${tiles.length} images -> ${o.out}`);
      } finally {
        await store.close();
      }
    });
}
