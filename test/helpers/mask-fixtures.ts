import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { maskBBox } from '../../core/data/mask-stats';
import { syntheticSourceSchema } from '../../core/data/source-spec';
import { drawSynthetic } from '../../core/data/synthetic';
import type { Box } from '../../core/masks/boxes';
import { writeImage, writeMask } from './image-fixtures';

/** A drawn object on a textured background, with its true mask and box. */
export interface DrawnObject {
  rgb: Uint8Array;
  mask: Uint8Array;
  box: Box;
  size: number;
}

/** `n` synthetic images (objects of varied shapes and colours on textured, noisy backgrounds) of a side. */
export function drawnObjects(n: number, size: number, seed = 1): DrawnObject[] {
  const spec = syntheticSourceSchema.parse({ source: 'synthetic', size, seed, bgNoise: 12 });
  return Array.from({ length: n }, (_, u) => {
    const { sample } = drawSynthetic(spec, 'val', u);
    return { rgb: sample.rgb, mask: sample.mask!, box: maskBBox(sample.mask!, size, size), size };
  });
}

/** A PASCAL-VOC / ImageNet bounding-box annotation. */
export function vocXml(width: number, height: number, objects: { name: string; box: Box }[]): string {
  const objs = objects
    .map(
      (o) =>
        `<object><name>${o.name}</name><bndbox><xmin>${o.box[0]}</xmin><ymin>${o.box[1]}</ymin><xmax>${o.box[2]}</xmax><ymax>${o.box[3]}</ymax></bndbox></object>`,
    )
    .join('');
  return `<annotation><size><width>${width}</width><height>${height}</height><depth>3</depth></size>${objs}</annotation>`;
}

/** Writes `<root>/images/<cls>/<stem>.png`, and optionally its mask and its VOC annotation. */
export async function writeDrawn(
  root: string,
  cls: string,
  stem: string,
  o: DrawnObject,
  extra: { mask?: Uint8Array; xml?: string } = {},
): Promise<void> {
  await writeImage(path.join(root, 'images', cls, `${stem}.png`), Buffer.from(o.rgb), o.size, o.size);
  if (extra.mask) await writeMask(path.join(root, 'masks', cls, `${stem}.png`), extra.mask, o.size, o.size);
  if (extra.xml !== undefined) {
    await mkdir(path.join(root, 'boxes', cls), { recursive: true });
    await writeFile(path.join(root, 'boxes', cls, `${stem}.xml`), extra.xml);
  }
}

/**
 * A VOC annotation with a usable box for `name` that also declares the "billion laughs" entities (ten levels of
 * ten references: 10^9 "lol"s, 3 GB, if a parser expanded them) and uses the biggest one in `<pose>`.
 */
export function billionLaughsXml(width: number, height: number, name: string, box: Box): string {
  let ents = '<!ENTITY lol0 "lol">';
  for (let i = 1; i < 10; i++) ents += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
  return vocXml(width, height, [{ name, box }])
    .replace('<annotation>', `<?xml version="1.0"?><!DOCTYPE annotation [${ents}]><annotation>`)
    .replace('<object>', '<object><pose>&lol9;</pose>');
}
