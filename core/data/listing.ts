import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isImageFile, MASK_EXTENSIONS } from './decode';
import type { SkippedFile } from './manifest';
import type { RealEntry } from './real-plan';
import { Rng } from './rng';
import { canonicalName, nameProblem, printableName } from './safe-names';
import type { Split } from './sample';

export async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** A folder's entries, sorted; a symbolic link is `dir` when it points at a folder, and flagged `link`. */
export async function listSorted(dir: string): Promise<{ name: string; dir: boolean; link: boolean }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out = await Promise.all(
    entries.map(async (e) => ({
      name: e.name,
      dir: e.isSymbolicLink() ? await isDir(path.join(dir, e.name)) : e.isDirectory(),
      link: e.isSymbolicLink(),
    })),
  );
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Why `p` may not be read as part of the dataset under `root`, or undefined when it may: symbolic links are
 * followed only while they stay inside the root (a link out of a downloaded dataset could read any file the
 * worker can). Dangling links are refused too.
 */
export async function outsideRoot(p: string, root: string): Promise<string | undefined> {
  const rootReal = realpath(root).catch(() => path.resolve(root));
  const real = await realpath(p).catch(() => undefined);
  if (real === undefined) return 'symbolic link to nothing (dangling), not followed';
  const base = await rootReal;
  if (real === base || real.startsWith(base + path.sep)) return undefined;
  return `symbolic link pointing outside the dataset folder ${root} (to ${printableName(real)}), not followed`;
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
 * An item's id, `<split>/<class folder>/<stem>`, in NFC like class folders (canonicalName): a file written on
 * macOS (NFD) gets the same id as its NFC twin would, and ids compare equal to what a person types.
 */
export function itemId(split: string, folder: string, file: string): string {
  return `${split}/${canonicalName(folder)}/${canonicalName(stemOf(file))}`;
}

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
  /** The dataset's folders (default: imageRoot and maskRoot): no symbolic link is followed out of them. */
  within?: { images: string; masks?: string };
}): Promise<{
  byFolder: Map<string, { label: number; images: string[]; masks: (string | undefined)[] }>;
  skipped: SkippedFile[];
}> {
  const skipped: SkippedFile[] = [];
  const byFolder = new Map<string, { label: number; images: string[]; masks: (string | undefined)[] }>();
  const within = args.within ?? { images: args.imageRoot, masks: args.maskRoot };
  const outside = await outsideRoot(args.imageRoot, within.images);
  if (outside) return { byFolder, skipped: [{ file: args.imageRoot, reason: outside }] };
  const rawNames = new Map<string, string>();
  for (const entry of await listSorted(args.imageRoot)) {
    const full = path.join(args.imageRoot, entry.name);
    if (!entry.dir) {
      skipped.push({ file: full, reason: 'file outside any class folder' });
      continue;
    }
    const refused = await refuseName(entry.name, full, within.images, entry.link);
    if (refused) {
      skipped.push(refused);
      continue;
    }
    const folder = canonicalName(entry.name);
    const twin = rawNames.get(folder);
    if (twin !== undefined) {
      skipped.push({
        file: full,
        reason: `class folder is the same name as "${printableName(twin)}" after Unicode normalization (NFC)`,
      });
      continue;
    }
    rawNames.set(folder, entry.name);
    const label = args.labelOf(folder);
    if (label === undefined) {
      skipped.push({
        file: full,
        reason: `unknown class folder "${printableName(entry.name)}" (known: ${args.knownClasses})`,
      });
      continue;
    }
    const images: string[] = [];
    const masks: (string | undefined)[] = [];
    const stems = new Map<string, string>();
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
      const bad = await refuseName(f.name, file, within.images, f.link);
      if (bad) {
        skipped.push(bad);
        continue;
      }
      // the stem names the item (`<split>/<class>/<stem>`): two images may not share one
      const stem = canonicalName(stemOf(f.name));
      const first = stems.get(stem);
      if (first !== undefined) {
        skipped.push({ file, reason: `same name stem as ${printableName(first)} (item ids must be unique)` });
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
      const maskOut = mask && within.masks !== undefined ? await outsideRoot(mask, within.masks) : undefined;
      if (mask && maskOut) {
        skipped.push({ file: mask, reason: maskOut });
        continue;
      }
      if (args.maxPerClass !== undefined && images.length >= args.maxPerClass) break;
      stems.set(stem, f.name);
      images.push(file);
      masks.push(mask || undefined);
    }
    byFolder.set(folder, { label, images, masks });
  }
  return { byFolder, skipped };
}

/**
 * Class folder names under `dir`, in NFC: folders whose names can be used and that do not lead out of `root`
 * (what listClassTree would refuse never becomes a class of its own).
 */
export async function usableFolders(dir: string, root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await listSorted(dir))
    if (e.dir && !(await refuseName(e.name, path.join(dir, e.name), root, e.link)))
      out.push(canonicalName(e.name));
  return out;
}

/** A dataset name that cannot be used, or a link out of `root`, as a skipped entry; undefined when fine. */
async function refuseName(
  name: string,
  file: string,
  root: string,
  link: boolean,
): Promise<SkippedFile | undefined> {
  const problem = nameProblem(name);
  if (problem) return { file: path.join(path.dirname(file), printableName(name)), reason: problem };
  const outside = link ? await outsideRoot(file, root) : undefined;
  return outside ? { file, reason: outside } : undefined;
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
    const refused = await refuseName(e.name, file, dir, e.link);
    if (refused) skipped.push(refused);
    else if (!e.dir && isImageFile(e.name)) files.push(file);
    else
      skipped.push({
        file,
        reason: e.dir ? 'folder inside the generic background folder' : 'not an image file',
      });
  }
  return { files, skipped };
}
