import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isImageFile, MASK_EXTENSIONS } from './decode';
import type { SkippedFile } from './manifest';
import type { RealEntry } from './real-plan';
import { Rng } from './rng';
import type { Split } from './sample';

export async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

export async function listSorted(dir: string): Promise<{ name: string; dir: boolean }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .map((e) => ({ name: e.name, dir: e.isDirectory() }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The first existing `<dir>/<stem><ext>` among the extensions, or undefined. */
export async function findWithExtension(
  dir: string,
  stem: string,
  extensions: readonly string[],
): Promise<string | undefined> {
  for (const ext of extensions) {
    const p = path.join(dir, stem + ext);
    if ((await stat(p).catch(() => undefined))?.isFile()) return p;
  }
  return undefined;
}

export const stemOf = (file: string) => path.basename(file, path.extname(file));

/**
 * Lists one `<imageRoot>/<class>/<file>` tree with masks at `<maskRoot>/<class>/<stem>.png|.npy`.
 * `labelOf` maps a folder name to its label (undefined: unknown class, skipped and reported).
 * Non-image files, stray files and images without masks are skipped with a reason naming the file.
 */
export async function listClassTree(args: {
  split: Split | undefined;
  imageRoot: string;
  /** Without a mask tree (masks made from boxes), images are listed alone. */
  maskRoot?: string;
  labelOf: (folder: string) => number | undefined;
  knownClasses: string;
  maxPerClass?: number;
}): Promise<{
  byFolder: Map<string, { label: number; images: string[]; masks: (string | undefined)[] }>;
  skipped: SkippedFile[];
}> {
  const skipped: SkippedFile[] = [];
  const byFolder = new Map<string, { label: number; images: string[]; masks: (string | undefined)[] }>();
  for (const entry of await listSorted(args.imageRoot)) {
    const full = path.join(args.imageRoot, entry.name);
    if (!entry.dir) {
      skipped.push({ file: full, reason: 'file outside any class folder' });
      continue;
    }
    const label = args.labelOf(entry.name);
    if (label === undefined) {
      skipped.push({
        file: full,
        reason: `unknown class folder "${entry.name}" (known: ${args.knownClasses})`,
      });
      continue;
    }
    const images: string[] = [];
    const masks: (string | undefined)[] = [];
    for (const f of await listSorted(full)) {
      const file = path.join(full, f.name);
      if (f.dir) {
        skipped.push({ file, reason: 'nested folder inside a class folder (not searched)' });
        continue;
      }
      if (!isImageFile(f.name)) {
        skipped.push({ file, reason: `not an image file (extension "${path.extname(f.name) || 'none'}")` });
        continue;
      }
      const maskDir = args.maskRoot === undefined ? undefined : path.join(args.maskRoot, entry.name);
      const mask = maskDir && (await findWithExtension(maskDir, stemOf(f.name), MASK_EXTENSIONS));
      if (maskDir && !mask) {
        skipped.push({
          file,
          reason: `no mask (looked for ${path.join(maskDir, stemOf(f.name))}${MASK_EXTENSIONS.join('|')})`,
        });
        continue;
      }
      if (args.maxPerClass !== undefined && images.length >= args.maxPerClass) break;
      images.push(file);
      masks.push(mask || undefined);
    }
    byFolder.set(entry.name, { label, images, masks });
  }
  return { byFolder, skipped };
}

/** Seeded per-class train/val split: the same seed and files always give the same split. */
export function splitByFraction<T>(
  items: T[],
  valFraction: number,
  seed: number,
  key: string,
): { train: T[]; val: T[] } {
  const idx = Rng.derive('split', seed, key).shuffle(items.map((_, i) => i));
  const nVal = Math.round(items.length * valFraction);
  const val = new Set(idx.slice(0, nVal));
  return { train: items.filter((_, i) => !val.has(i)), val: items.filter((_, i) => val.has(i)) };
}

/** Round-robin over classes so every shard holds every class (ids stay sorted within a class). */
export function interleaveByLabel(entries: RealEntry[]): RealEntry[] {
  const groups = new Map<number, RealEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.label) ?? [];
    g.push(e);
    groups.set(e.label, g);
  }
  const lists = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
  const out: RealEntry[] = [];
  for (let i = 0; out.length < entries.length; i++) for (const g of lists) if (i < g.length) out.push(g[i]!);
  return out;
}

/** The generic_bg pool: every image file in a folder, sorted. */
export async function listGeneric(
  dir: string | undefined,
): Promise<{ files: string[]; skipped: SkippedFile[] }> {
  if (!dir) return { files: [], skipped: [] };
  if (!(await isDir(dir))) throw new Error(`genericPath ${dir} is not a folder`);
  const files: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const e of await listSorted(dir)) {
    const file = path.join(dir, e.name);
    if (!e.dir && isImageFile(e.name)) files.push(file);
    else
      skipped.push({
        file,
        reason: e.dir ? 'folder inside the generic background folder' : 'not an image file',
      });
  }
  return { files, skipped };
}
