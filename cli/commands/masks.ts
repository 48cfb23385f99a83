import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/config';
import type { DataManifest } from '../../core/data/manifest';
import { prepareDataset } from '../../core/data/prepare';
import { sourceSpecSchema } from '../../core/data/source-spec';
import { MASK_SOURCES, type MaskSourceName } from '../../core/masks/mask-spec';
import type { MaskSummary } from '../../core/masks/mask-summary';
import { MASK_HEAD, maskRows } from '../../core/report/mask-section';
import { createStore, getJson } from '../../store';
import { s3PrefixOpener } from '../../store/s3-prefix-opener';
import { shardProgressPrinter } from '../shard-progress';

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
};

/** The mask table, flagged masks and box notes as plain text columns. */
export function printMaskSummary(s: MaskSummary, all = false): void {
  const rows = [MASK_HEAD, ...maskRows(s)];
  const widths = MASK_HEAD.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) console.log(r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
  console.log(`flagged masks: ${s.flaggedCount}`);
  for (const f of all ? s.flagged : s.flagged.slice(0, 10))
    console.log(
      `  ${f.id} (${f.source}${f.file ? `, ${f.file}` : ''}): ${f.flags.join(', ')} -> ${f.action}`,
    );
  if (s.notesCount) console.log(`box notes: ${s.notesCount}`);
  for (const n of all ? s.notes : s.notes.slice(0, 10)) console.log(`  ${n.id}: ${n.note}`);
}

/** `bgstudy masks compare|show`: the mask-quality experiment on a dataset, and its findings. */
export function registerMasks(program: Command): void {
  const masks = program
    .command('masks')
    .description('foreground masks: compare provided, GrabCut and box masks (IoU), and show mask checks');

  masks
    .command('compare')
    .description(
      'prepare a real dataset computing every mask source it can (provided, grabcut, box), check them, and print the IoU of each against the provided masks',
    )
    .argument('<source>', 'a JSON file with a dataset source spec (folder, in9, pixel-imagenet), or "folder"')
    .option('--path <dir>', 'folder: the image tree <dir>/<class>/<image>')
    .option('--mask-path <dir>', 'folder: the mask tree (same layout)')
    .option('--boxes <dir>', 'ImageNet/PASCAL-VOC XML annotations, <dir>/<class>/<stem>.xml')
    .option('--boxes-csv <file>', 'boxes as CSV: image,xmin,ymin,xmax,ymax')
    .option('--boxes-json <file>', 'boxes as JSON: {"<stem>": [[xmin, ymin, xmax, ymax], ...]}')
    .option(
      '--use <source>',
      'the mask the dataset keeps: provided | grabcut | box (default provided if given)',
    )
    .option('--size <px>', 'resize (cover) to a square of this side', num)
    .option('--max-per-class <n>', 'at most n images per class and split', num)
    .option('--iterations <n>', 'GrabCut iterations (default 5)', num)
    .option('--margin <f>', 'grow boxes by this share of their size before GrabCut (default 0)', num)
    .option('--policy <p>', 'flagged masks: keep | invert | skip (default keep)')
    .option('--threads <n>', 'GrabCut worker threads', num)
    .option('--all', 'list every flagged mask and note')
    .option('--json', 'print the mask summary as JSON')
    .action(async (source: string, o: Record<string, string | number | boolean | undefined>) => {
      let spec: Record<string, unknown>;
      if (source.endsWith('.json'))
        spec = JSON.parse(await readFile(source, 'utf8')) as Record<string, unknown>;
      else if (source === 'folder') spec = { source, path: o.path, maskPath: o.maskPath };
      else throw new Error(`unknown source "${source}" (folder or a .json spec)`);
      if (o.size !== undefined) spec.size = o.size;
      if (o.maxPerClass !== undefined) spec.maxPerClass = o.maxPerClass;
      const given = (spec.masks ?? {}) as Record<string, unknown>;
      const boxes = o.boxes
        ? { format: 'voc-xml', path: o.boxes }
        : o.boxesCsv
          ? { format: 'csv', file: o.boxesCsv }
          : o.boxesJson
            ? { format: 'json', file: o.boxesJson }
            : given.boxes;
      const hasProvided = spec.source !== 'folder' || spec.maskPath !== undefined;
      const use = (o.use ?? given.use ?? (hasProvided ? 'provided' : 'grabcut')) as MaskSourceName;
      spec.masks = {
        ...given,
        use,
        compare: MASK_SOURCES.filter((s) => s !== use && (s !== 'provided' || hasProvided)),
        ...(boxes ? { boxes } : {}),
        grabcut: { iterations: o.iterations ?? 5, margin: o.margin ?? 0 },
        checks: { ...((given.checks as object) ?? {}), ...(o.policy ? { policy: o.policy } : {}) },
      };
      const parsed = sourceSpecSchema.safeParse(spec);
      if (!parsed.success)
        throw new Error(
          `invalid source: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      const config = loadConfig();
      const store = createStore(config.store);
      const progress = shardProgressPrinter('masks');
      try {
        const r = await prepareDataset(store, parsed.data, {
          tar: false,
          onProgress: progress.onProgress,
          cacheDir: path.join(config.homeDir, 'cache'),
          openS3: s3PrefixOpener(config.store),
          maskThreads: o.threads as number | undefined,
        });
        progress.stop();
        const m = await getJson<DataManifest>(store, r.manifestKey);
        if (o.json) {
          console.log(JSON.stringify(m.masks ?? null, null, 1));
          return;
        }
        console.log(
          `${r.reused ? 'found' : 'prepared'} dataset ${r.datasetHash} (${r.manifestKey}): ${Object.entries(
            r.counts,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; skipped ${r.skippedCount}`,
        );
        if (m.masks) printMaskSummary(m.masks, o.all === true);
      } finally {
        progress.stop();
        await store.close();
      }
    });

  masks
    .command('show')
    .description("print a dataset manifest's mask sources, checks and IoU")
    .argument('<manifestKey>', 'e.g. datasets/<hash>/manifest.json')
    .option('--all', 'list every flagged mask and note')
    .action(async (key: string, o: { all?: boolean }) => {
      const store = createStore(loadConfig().store);
      try {
        const m = await getJson<DataManifest>(store, key);
        if (!m.masks)
          console.log('no mask checks in this manifest (synthetic data, a variant, or an older dataset)');
        else printMaskSummary(m.masks, o.all === true);
      } finally {
        await store.close();
      }
    });
}
