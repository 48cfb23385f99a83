import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BadInputError } from '../data/decode';
import type { BBox } from '../data/manifest';
import { printableName } from '../data/safe-names';
import { DEFAULT_MAX_TABLE_BYTES, readAnnotationFile } from './box-files';

/** A box in pixel edges, half-open: columns x0..x1-1, rows y0..y1-1 (the manifest's BBox convention). */
export type Box = BBox;

export interface VocObject {
  name: string;
  box: Box;
}

export interface VocAnnotation {
  /** The image size the annotation states (`<size>`), when it does. */
  width?: number;
  height?: number;
  objects: VocObject[];
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === 'object',
  // no entity is ever expanded (a DOCTYPE is refused before parsing anyway; this is the second line)
  processEntities: false,
  htmlEntities: false,
});

/** A DOCTYPE or entity declaration: VOC annotations have none; it is how small XML files expand without bound. */
const DTD = /<!(DOCTYPE|ENTITY)/i;

/**
 * Parses one ImageNet / PASCAL-VOC annotation. Throws BadInputError naming the file for malformed XML, XML with a
 * DOCTYPE or entity declaration (refused unparsed: billion-laughs and external-entity tricks never reach the
 * parser), a file without `<annotation>`, or an object without a name or a numeric `<bndbox>`.
 */
export function parseVocXml(text: string, file: string): VocAnnotation {
  const dtd = DTD.exec(text);
  if (dtd)
    throw new BadInputError(
      file,
      `XML declares a ${dtd[1]!.toUpperCase()} (entities can expand without bound; annotations need none): refused unparsed`,
    );
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw new BadInputError(file, `malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(text) as { annotation?: Record<string, unknown> };
  const ann = doc.annotation;
  if (!ann || typeof ann !== 'object') throw new BadInputError(file, 'no <annotation> element');
  const size = ann.size as Record<string, unknown> | undefined;
  const objects: VocObject[] = [];
  const raw = (ann.object as Record<string, unknown>[] | undefined) ?? [];
  raw.forEach((o, i) => {
    const name = typeof o.name === 'string' ? o.name.trim() : '';
    if (!name) throw new BadInputError(file, `object ${i + 1} has no <name>`);
    const b = o.bndbox as Record<string, unknown> | undefined;
    const nums = ['xmin', 'ymin', 'xmax', 'ymax'].map((k) => Number(b?.[k]));
    if (!b || nums.some((n) => !Number.isFinite(n)))
      throw new BadInputError(
        file,
        `object ${i + 1} (${printableName(name)}) has no numeric <bndbox> xmin/ymin/xmax/ymax`,
      );
    objects.push({ name, box: nums as Box });
  });
  const width = Number(size?.width);
  const height = Number(size?.height);
  return {
    objects,
    ...(Number.isFinite(width) && width > 0 && Number.isFinite(height) && height > 0
      ? { width, height }
      : {}),
  };
}

/** The boxes of the objects whose name is one of `names` (the class folder, e.g. a wnid, or the class name). */
export function objectsOfClass(ann: VocAnnotation, names: string[]): Box[] {
  return ann.objects.filter((o) => names.includes(o.name)).map((o) => o.box);
}

/** Bad rows reported one by one per table; the rest are counted in one entry (a manifest stays small). */
export const MAX_ROW_PROBLEMS = 100;

/**
 * A table of boxes by image key (`<stem>` or `<class>/<stem>`), from a CSV (`image,xmin,ymin,xmax,ymax`
 * header; several rows per image allowed) or a JSON object of box lists. Bad rows are reported by file and
 * line, never fatal. A file that cannot be used at all (unreadable, a link out of its folder, over `maxBytes`,
 * unparsable, without the header) is a BadInputError naming it.
 */
export async function readBoxTable(
  file: string,
  format: 'csv' | 'json',
  options: { maxBytes?: number } = {},
): Promise<{ boxes: Map<string, Box[]>; problems: { file: string; reason: string }[] }> {
  // the table's own folder is its root: a table linked out of it is not followed
  const text = await readAnnotationFile(
    file,
    path.dirname(file),
    options.maxBytes ?? DEFAULT_MAX_TABLE_BYTES,
  );
  const boxes = new Map<string, Box[]>();
  const problems: { file: string; reason: string }[] = [];
  let more = 0;
  const problem = (reason: string) => {
    if (problems.length < MAX_ROW_PROBLEMS) problems.push({ file, reason });
    else more++;
  };
  const add = (key: string, box: unknown[], where: string) => {
    const nums = box.map(Number);
    if (nums.length !== 4 || nums.some((n) => !Number.isFinite(n))) {
      problem(`${where}: box of "${printableName(key)}" is not four numbers`);
      return;
    }
    const list = boxes.get(key) ?? [];
    list.push(nums as Box);
    boxes.set(key, list);
  };
  if (format === 'json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new BadInputError(file, `boxes file is not valid JSON (${(err as Error).message})`);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      throw new BadInputError(
        file,
        'boxes file: expected an object of image -> [[xmin, ymin, xmax, ymax], ...]',
      );
    for (const [key, list] of Object.entries(doc)) {
      const shown = printableName(key);
      if (!Array.isArray(list)) {
        problem(`"${shown}": expected a list of boxes`);
        continue;
      }
      list.forEach((b, i) =>
        Array.isArray(b) ? add(key, b, `"${shown}"[${i}]`) : problem(`"${shown}"[${i}]: not a box`),
      );
    }
    return { boxes, problems: withMore(problems, file, more) };
  }
  const lines = text.split(/\r?\n/);
  const head = (lines[0] ?? '').split(',').map((s) => s.trim().toLowerCase());
  const cols = ['image', 'xmin', 'ymin', 'xmax', 'ymax'].map((c) => head.indexOf(c));
  if (cols.some((c) => c < 0))
    throw new BadInputError(
      file,
      'boxes file: the first line must name the columns image,xmin,ymin,xmax,ymax',
    );
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line) continue;
    const cells = line.split(',').map((s) => s.trim());
    const key = cells[cols[0]!] ?? '';
    if (!key) {
      problem(`line ${n + 1}: no image name`);
      continue;
    }
    add(
      key,
      cols.slice(1).map((c) => cells[c]),
      `line ${n + 1}`,
    );
  }
  return { boxes, problems: withMore(problems, file, more) };
}

const withMore = (problems: { file: string; reason: string }[], file: string, more: number) =>
  more
    ? [...problems, { file, reason: `${more} more bad rows (only the first ${MAX_ROW_PROBLEMS} are listed)` }]
    : problems;

/** Keys a box table may use for an image: `<class folder>/<stem>` and `<stem>`. */
export function boxKeys(folder: string, file: string): string[] {
  const stem = path.basename(file, path.extname(file));
  return [`${folder}/${stem}`, stem];
}

/**
 * A box checked against the image it belongs to: inside, clipped (with a note), or unusable (undefined, with a
 * note). One pixel of slack covers the 0- vs 1-based conventions of annotation tools.
 */
export function clipBox(box: Box, width: number, height: number): { box?: Box; note?: string } {
  const [x0, y0, x1, y1] = box;
  const shown = `[${box.join(', ')}]`;
  if (!(x1 > x0 && y1 > y0)) return { note: `box ${shown} is empty or reversed` };
  if (x1 <= 0 || y1 <= 0 || x0 >= width || y0 >= height)
    return { note: `box ${shown} lies outside the ${width}x${height} image` };
  const c: Box = [
    Math.max(0, Math.floor(x0)),
    Math.max(0, Math.floor(y0)),
    Math.min(width, Math.ceil(x1)),
    Math.min(height, Math.ceil(y1)),
  ];
  const outside = x0 < -1 || y0 < -1 || x1 > width + 1 || y1 > height + 1;
  return outside
    ? {
        box: c,
        note: `box ${shown} extends outside the ${width}x${height} image; clipped to [${c.join(', ')}]`,
      }
    : { box: c };
}

/**
 * Maps a box of a width x height image into the `size` square that sharp's resize (cover, centre crop) makes
 * of it; undefined when the crop cuts the box away entirely.
 */
export function boxAfterCover(box: Box, width: number, height: number, size: number): Box | undefined {
  const scale = Math.max(size / width, size / height);
  const rw = Math.round(width * scale);
  const rh = Math.round(height * scale);
  const left = Math.floor((rw - size + 1) / 2);
  const top = Math.floor((rh - size + 1) / 2);
  const x0 = Math.max(0, Math.floor(box[0] * scale - left));
  const y0 = Math.max(0, Math.floor(box[1] * scale - top));
  const x1 = Math.min(size, Math.ceil(box[2] * scale - left));
  const y1 = Math.min(size, Math.ceil(box[3] * scale - top));
  return x1 > x0 && y1 > y0 ? [x0, y0, x1, y1] : undefined;
}

/** The filled boxes as a 0/255 mask (the `box` mask source). */
export function boxMask(boxes: Box[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const [x0, y0, x1, y1] of boxes)
    for (let y = y0; y < y1; y++) mask.fill(255, y * width + x0, y * width + x1);
  return mask;
}
