import path from 'node:path';
import type { DatasetPlan } from './dataset-plan';
import type { ReaderContext } from './readers';
import {
  findWithExtension,
  interleaveByLabel,
  isDir,
  listGeneric,
  listSorted,
  outsideRoot,
  splitByFraction,
  itemId,
  stemOf,
} from './listing';
import type { SkippedFile } from './manifest';
import { nameProblem, printableName } from './safe-names';
import { type RealEntry, realPlan } from './real-plan';
import type { PixelImagenetSource } from './source-spec';

const IMAGENET_EXTENSIONS = ['.JPEG', '.jpeg', '.jpg', '.JPG', '.png'];
const MASK_FILE = /\.(png|npy)$/i;

/**
 * `pixel-imagenet`: Pixel-ImageNet's per-image PNG masks (`<masksPath>/<wnid>/<stem>.png`) select the ImageNet
 * images (`<imagesPath>/<wnid>/<stem>.JPEG`) of the chosen WordNet ids; images without a mask are not part of
 * the dataset, masks without an image are skipped and reported. Split into train/val by valFraction (seeded).
 */
export async function pixelImagenetPlan(spec: PixelImagenetSource, ctx: ReaderContext): Promise<DatasetPlan> {
  if (spec.classNames && spec.classNames.length !== spec.wnids.length) {
    throw new Error(
      `pixel-imagenet: classNames has ${spec.classNames.length} names for ${spec.wnids.length} wnids`,
    );
  }
  const entries: RealEntry[] = [];
  const skipped: SkippedFile[] = [];
  for (const [label, wnid] of spec.wnids.entries()) {
    const maskDir = path.join(spec.masksPath, wnid);
    if (!(await isDir(maskDir))) throw new Error(`pixel-imagenet: no mask folder for ${wnid} (${maskDir})`);
    const pairs: { image: string; mask: string }[] = [];
    for (const e of await listSorted(maskDir)) {
      const mask = path.join(maskDir, e.name);
      const refused = nameProblem(e.name) ?? (await outsideRoot(mask, spec.masksPath));
      if (refused) {
        skipped.push({ file: path.join(maskDir, printableName(e.name)), reason: refused });
        continue;
      }
      if (e.dir || !MASK_FILE.test(e.name)) {
        skipped.push({
          file: mask,
          reason: e.dir ? 'folder inside a mask folder' : 'not a mask file (expected .png or .npy)',
        });
        continue;
      }
      const image = await findWithExtension(
        path.join(spec.imagesPath, wnid),
        stemOf(e.name),
        IMAGENET_EXTENSIONS,
      );
      if (!image) {
        skipped.push({
          file: mask,
          reason: `no ImageNet image for this mask in ${path.join(spec.imagesPath, wnid)}`,
        });
        continue;
      }
      const imageOut = await outsideRoot(image, spec.imagesPath);
      if (imageOut) {
        skipped.push({ file: image, reason: imageOut });
        continue;
      }
      if (spec.maxPerClass !== undefined && pairs.length >= spec.maxPerClass) break;
      pairs.push({ image, mask });
    }
    const bySplit = splitByFraction(pairs, spec.valFraction, spec.seed, wnid);
    for (const split of ['train', 'val'] as const) {
      for (const p of bySplit[split]) entries.push({ split, label, id: itemId(split, wnid, p.image), ...p });
    }
  }
  const generic = await listGeneric(spec.genericPath);
  return realPlan({
    mtimes: !ctx.mirrored,
    root: spec.imagesPath,
    classes: spec.classNames ?? spec.wnids,
    entries: interleaveByLabel(entries),
    generic: generic.files,
    skipped: [...skipped, ...generic.skipped],
    size: spec.size ?? 224,
    masks: spec.masks,
    context: ctx,
    limits: { maxPixels: spec.maxPixels },
  });
}
