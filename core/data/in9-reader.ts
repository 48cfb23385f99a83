import path from 'node:path';
import type { DatasetPlan } from './dataset-plan';
import { fetchArchive } from './fetch-archive';
import type { ReaderContext } from './readers';
import { interleaveByLabel, isDir, itemId, listClassTree, listGeneric, usableFolders } from './listing';
import type { SkippedFile } from './manifest';
import { type RealEntry, realPlan } from './real-plan';
import type { In9Source } from './source-spec';

const CLASS_FOLDER = /^(\d+)_(.+)$/;

/**
 * `in9`: MadryLab/backgrounds_challenge's layout, `<path>/<variant>/{train,val}/<NN_class>/<file>`, with the
 * foreground masks at `<path>/fg_mask/{train,val}/<NN_class>/<stem>.npy` (PNG masks are accepted too). A split
 * without fg_mask/ gets its masks from `masks.boxes` when the spec names boxes.
 * Class names drop the `NN_` prefix (`00_dog` -> `dog`); labels follow the folder order.
 */
export async function in9Plan(spec: In9Source, ctx: ReaderContext): Promise<DatasetPlan> {
  const fetched = spec.url
    ? await fetchArchive(spec.url, {
        cacheDir: ctx.cacheDir,
        sha256: spec.sha256,
        maxBytes: spec.maxDownloadBytes,
        maxExtractedBytes: spec.maxExtractedBytes,
        onProgress: ctx.onFetchProgress,
      })
    : undefined;
  const base = fetched?.dir ?? spec.path!;
  const root = path.join(base, spec.variant);
  if (!(await isDir(root)))
    throw new Error(
      `in9 source: ${root} is not a folder (expected <path>/${spec.variant}/{train,val}/NN_class/)`,
    );
  const splits = spec.splits ?? [];
  if (!spec.splits)
    for (const s of ['train', 'val'] as const) if (await isDir(path.join(root, s))) splits.push(s);
  if (splits.length === 0) throw new Error(`in9 source: ${root} has neither train/ nor val/`);
  const folders = new Set<string>();
  for (const split of splits) {
    const dir = path.join(root, split);
    if (!(await isDir(dir))) throw new Error(`in9 source: ${dir} is not a folder`);
    for (const name of await usableFolders(dir, base)) if (CLASS_FOLDER.test(name)) folders.add(name);
  }
  const classFolders = [...folders].sort();
  const labels = new Map(classFolders.map((f, i) => [f, i]));
  const entries: RealEntry[] = [];
  // archive entries refused at extraction (links, devices, escaping paths) are reported like bad images
  const skipped: SkippedFile[] = [...(fetched?.refused ?? [])];
  for (const split of splits) {
    // IN-9 ships masks for val only: a split without fg_mask/ takes its masks from boxes when the spec has some
    // (e.g. GrabCut from ImageNet's box annotations), and otherwise reports each image as having no mask
    const maskDir = path.join(base, 'fg_mask', split);
    const fromBoxes = spec.masks?.boxes !== undefined && !(await isDir(maskDir));
    const listed = await listClassTree({
      split,
      imageRoot: path.join(root, split),
      maskRoot: fromBoxes ? undefined : maskDir,
      labelOf: (f) => labels.get(f),
      knownClasses: 'folders named NN_class',
      maxPerClass: spec.maxPerClass,
      within: { images: base, masks: base },
    });
    skipped.push(...listed.skipped);
    for (const [folder, { label, images, masks }] of listed.byFolder) {
      images.forEach((image, i) =>
        entries.push({ split, label, id: itemId(split, folder, image), image, mask: masks[i] }),
      );
    }
  }
  const generic = await listGeneric(spec.genericPath);
  return realPlan({
    root: base,
    mtimes: spec.url === undefined && !ctx.mirrored,
    classes: classFolders.map((f) => CLASS_FOLDER.exec(f)![2]!),
    entries: interleaveByLabel(entries),
    generic: generic.files,
    skipped: [...skipped, ...generic.skipped],
    size: spec.size,
    masks: spec.masks,
    context: ctx,
    limits: { maxPixels: spec.maxPixels },
  });
}
