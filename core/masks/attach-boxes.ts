import path from 'node:path';
import type { SkippedFile } from '../data/manifest';
import { findWithExtension } from '../data/listing';
import { BadInputError } from '../data/decode';
import { DEFAULT_MAX_XML_BYTES, readAnnotationFile } from './box-files';
import { type Box, boxKeys, objectsOfClass, parseVocXml, readBoxTable } from './boxes';
import type { MaskSpec } from './mask-spec';
import type { MaskedEntry } from './masked-batch';

/** An ImageNet file stem, `<wnid>_<number>`: group 1 is the synset id. */
const IMAGENET_STEM = /^(n\d{8})_\d+$/;

/** Class folder of an entry id (`<split>/<folder>/<stem>`). */
const folderOf = (id: string) => id.split('/')[1] ?? '';

/**
 * Gives each listed image its boxes from the spec's box source (voc-xml files, or a csv/json table). Images
 * without an annotation, with a malformed or refused one (a link out of the boxes folder, over the size limit,
 * a DOCTYPE), or without an object of their class are skipped and reported by file, never fatal; so is a table
 * that cannot be used (then no image has boxes from it). Returns the annotation files too (part of the dataset's
 * fingerprint).
 */
export async function attachBoxes<E extends MaskedEntry>(
  entries: E[],
  spec: MaskSpec,
  classes: string[],
): Promise<{ entries: E[]; skipped: SkippedFile[]; files: string[] }> {
  const boxes = spec.boxes;
  const wanted =
    spec.use !== 'provided' || spec.fallback !== undefined || spec.compare.some((s) => s !== 'provided');
  if (!boxes || boxes.format === 'mask' || !wanted) return { entries, skipped: [], files: [] };
  const kept: E[] = [];
  const skipped: SkippedFile[] = [];
  // an image whose boxes are missing keeps its place when it is used with its provided mask (the box sources
  // then record "no usable box" for it); otherwise it is skipped
  const keepWithout = spec.use === 'provided';
  const without = (e: E) => {
    if (keepWithout) kept.push(e);
  };
  if (boxes.format === 'voc-xml') {
    const files: string[] = [];
    for (const e of entries) {
      const folder = folderOf(e.id);
      const stem = path.basename(e.image, path.extname(e.image));
      // ImageNet names images `<wnid>_<n>` and keeps their boxes in `<wnid>/<wnid>_<n>.xml`, objects named by wnid
      const wnid = IMAGENET_STEM.exec(stem)?.[1];
      const file =
        (await findWithExtension(path.join(boxes.path, folder), stem, ['.xml'])) ??
        (await findWithExtension(boxes.path, stem, ['.xml'])) ??
        (wnid ? await findWithExtension(path.join(boxes.path, wnid), stem, ['.xml']) : undefined);
      if (!file) {
        without(e);
        if (!keepWithout)
          skipped.push({
            file: e.image,
            reason: `no box annotation (looked for ${[folder, '', ...(wnid ? [wnid] : [])].map((d) => path.join(boxes.path, d, `${stem}.xml`)).join(', ')})`,
          });
        continue;
      }
      files.push(file);
      try {
        const text = await readAnnotationFile(file, boxes.path, boxes.maxBytes ?? DEFAULT_MAX_XML_BYTES);
        const ann = parseVocXml(text, file);
        const names = [...new Set([folder, classes[e.label] ?? '', wnid ?? ''])].filter(Boolean);
        const found = boxes.objects === 'any' ? ann.objects.map((o) => o.box) : objectsOfClass(ann, names);
        if (found.length === 0) {
          without(e);
          const seen = [...new Set(ann.objects.map((o) => o.name))];
          skipped.push({
            file,
            reason: `no object named ${names.join(' or ')} (objects: ${seen.join(', ') || 'none'})`,
          });
          continue;
        }
        kept.push({ ...e, boxes: found, boxFile: file });
      } catch (err) {
        without(e);
        if (err instanceof BadInputError) skipped.push({ file: err.file, reason: err.reason });
        else skipped.push({ file, reason: `cannot read annotation: ${(err as Error).message}` });
      }
    }
    return { entries: kept, skipped, files };
  }
  let table: { boxes: Map<string, Box[]>; problems: SkippedFile[] };
  let refused = '';
  try {
    table = await readBoxTable(boxes.file, boxes.format, { maxBytes: boxes.maxBytes });
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    skipped.push({ file: err.file, reason: err.reason });
    table = { boxes: new Map(), problems: [] };
    refused = ' (the boxes file was refused, see its entry)';
  }
  skipped.push(...table.problems);
  for (const e of entries) {
    const keys = boxKeys(folderOf(e.id), e.image);
    const key = keys.find((k) => table.boxes.has(k));
    if (!key) {
      without(e);
      if (!keepWithout)
        skipped.push({
          file: e.image,
          reason: `no boxes for ${keys.join(' or ')} in ${boxes.file}${refused}`,
        });
      continue;
    }
    kept.push({ ...e, boxes: table.boxes.get(key), boxFile: boxes.file });
  }
  return { entries: kept, skipped, files: [boxes.file] };
}
