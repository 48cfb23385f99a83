import path from 'node:path';
import type { DatasetPlan } from './dataset-plan';
import type { ReaderContext } from './readers';
import {
  interleaveByLabel,
  isDir,
  listClassTree,
  listGeneric,
  usableFolders,
  splitByFraction,
  itemId,
} from './listing';
import type { SkippedFile } from './manifest';
import { canonicalName } from './safe-names';
import { type RealEntry, realPlan } from './real-plan';
import type { Split } from './sample';
import type { FolderSource } from './source-spec';

/**
 * `folder`: `<path>/<class>/<image>` (split by valFraction, seeded) or `<path>/{train,val}/<class>/<image>`,
 * with masks in the same tree under `maskPath`.
 */
export async function folderPlan(spec: FolderSource, ctx: ReaderContext): Promise<DatasetPlan> {
  if (!(await isDir(spec.path))) throw new Error(`folder source: ${spec.path} is not a folder`);
  const maskPath = spec.maskPath;
  if (maskPath !== undefined && !(await isDir(maskPath)))
    throw new Error(`folder source: mask folder ${maskPath} is not a folder`);
  const presplit = await isDir(path.join(spec.path, 'train'));
  const roots: { split: Split | undefined; images: string; masks: string | undefined }[] = presplit
    ? (['train', 'val'] as const).map((s) => ({
        split: s,
        images: path.join(spec.path, s),
        masks: maskPath === undefined ? undefined : path.join(maskPath, s),
      }))
    : [{ split: undefined, images: spec.path, masks: spec.maskPath }];
  const present = [];
  for (const r of roots) if (await isDir(r.images)) present.push(r);

  let classes = spec.classes?.map(canonicalName);
  if (!classes) {
    const names = new Set<string>();
    for (const r of present) for (const name of await usableFolders(r.images, spec.path)) names.add(name);
    classes = [...names].sort();
  }
  const labels = new Map(classes.map((c, i) => [c, i]));
  const entries: RealEntry[] = [];
  const skipped: SkippedFile[] = [];
  for (const r of present) {
    const listed = await listClassTree({
      split: r.split,
      imageRoot: r.images,
      maskRoot: r.masks,
      labelOf: (f) => labels.get(f),
      knownClasses: classes.join(', '),
      maxPerClass: spec.maxPerClass,
      within: { images: spec.path, masks: spec.maskPath },
    });
    skipped.push(...listed.skipped);
    for (const [folder, { label, images, masks }] of listed.byFolder) {
      const pairs = images.map((image, i) => ({ image, mask: masks[i] }));
      const bySplit = r.split
        ? { [r.split]: pairs }
        : splitByFraction(pairs, spec.valFraction, spec.seed, folder);
      for (const split of ['train', 'val'] as const) {
        for (const p of bySplit[split] ?? [])
          entries.push({ split, label, id: itemId(split, folder, p.image), ...p });
      }
    }
  }
  const generic = await listGeneric(spec.genericPath);
  return realPlan({
    mtimes: !ctx.mirrored,
    root: spec.path,
    classes,
    entries: interleaveByLabel(entries),
    generic: generic.files,
    skipped: [...skipped, ...generic.skipped],
    size: spec.size,
    masks: spec.masks,
    context: ctx,
    limits: { maxPixels: spec.maxPixels },
  });
}
