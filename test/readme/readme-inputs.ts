/**
 * Small stand-ins for the files README.md's commands read (an IN-9 folder, a folder dataset with masks,
 * ImageNet + Pixel-ImageNet, VOC box annotations, a study spec), so each command runs as written with only
 * its paths pointing here.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { maskBBox } from '../../core/data/mask-stats';
import { vocXml } from '../helpers/mask-fixtures';
import { writePair } from '../helpers/image-fixtures';

const CLASSES = ['00_dog', '01_bird', '02_wheeled vehicle'];
const WNIDS = ['n01440764', 'n02102040'];
const SIDE = 20;

export async function writeReadmeInputs(dir: string, repo: string): Promise<void> {
  let seed = 0;
  for (const cls of CLASSES)
    for (let i = 0; i < 4; i++) {
      seed++;
      // IN-9's layout: <root>/original/<split>/<class>/<wnid>_<n>.JPEG with fg_mask/<split>/<class>/<same>.npy
      for (const split of ['train', 'val'])
        await writePair(
          `${dir}/bg_challenge/original/${split}/${cls}/n0${seed}_${i}.JPEG`,
          `${dir}/bg_challenge/fg_mask/${split}/${cls}/n0${seed}_${i}.npy`,
          seed,
        );
      // a folder dataset: imgs/<class>/<image> with a parallel mask tree, and VOC boxes for `masks compare`
      const { mask } = await writePair(
        `${dir}/imgs/${cls}/img${i}.png`,
        `${dir}/masks/${cls}/img${i}.png`,
        seed,
      );
      await mkdir(`${dir}/annotations/${cls}`, { recursive: true });
      await writeFile(
        `${dir}/annotations/${cls}/img${i}.xml`,
        vocXml(SIDE, SIDE, [{ name: cls, box: maskBBox(mask, SIDE, SIDE) }]),
      );
    }
  for (const [k, wnid] of WNIDS.entries())
    for (let i = 1; i <= 5; i++)
      await writePair(
        `${dir}/imagenet/${wnid}/${wnid}_${i}.JPEG`,
        `${dir}/pixel-imagenet/${wnid}/${wnid}_${i}.png`,
        40 + k * 5 + i,
      );
  await copyFile(path.join(repo, 'presets', 'quick.json'), path.join(dir, 'study.json'));
}
