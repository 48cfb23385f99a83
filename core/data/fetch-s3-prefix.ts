import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ArtifactNotFoundError, InvalidArtifactKeyError } from '../../common/errors';
import type { ArtifactStore } from '../../store/artifact-store';
import { hashOf } from '../hash';
import type { FetchProgress } from './fetch-archive';
import type { SkippedFile } from './manifest';
import { objectNameProblem, printableName } from './safe-names';
import { SkipList } from './skip-list';

/**
 * Opens the objects under `s3://bucket/prefix` as a store (same endpoint and credentials as the artifact store).
 * Its keys must follow the dataset-name rule (safe-names.ts `assertObjectName`), as store/s3-prefix-opener.ts's do.
 */
export type S3PrefixOpener = (bucket: string, prefix: string) => ArtifactStore;

export function parseS3Url(url: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return m ? { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') } : undefined;
}

/** Local file-system errors that concern one object's name or place, not the mirror as a whole. */
const PER_OBJECT_CODES = new Set(['ENAMETOOLONG', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EINVAL', 'EILSEQ']);

/**
 * Mirrors every object under an S3 prefix into `<cacheDir>/<hash of the url>/`, so the folder readers can list
 * and decode it. Resumable: objects already mirrored with the same size are not fetched again; each object is
 * written to a temp file (in a folder beside the mirror, so it is never listed) and renamed, so a half-written
 * file is never taken for a mirrored one. Object names are checked with the dataset-name rule (spaces and any
 * script are fine; `..`, empty segments and control characters are not). One object that cannot be placed (a
 * name the file system refuses, an object where a folder is, one deleted meanwhile) is refused by name and the
 * rest go on; only store-wide errors (credentials, network) fail the mirror. The refused list keeps 100 names
 * and counts the rest.
 */
export async function mirrorS3Prefix(
  url: string,
  open: S3PrefixOpener,
  cacheDir: string,
  onProgress?: (p: FetchProgress) => void,
): Promise<{ dir: string; refused: SkippedFile[] }> {
  const parsed = parseS3Url(url);
  if (!parsed) throw new Error(`not an s3:// URL: ${url}`);
  const store = open(parsed.bucket, parsed.prefix);
  const dir = path.join(cacheDir, hashOf({ s3: url }));
  const parts = `${dir}.parts`;
  try {
    const keys = await store.list('');
    if (keys.length === 0) throw new Error(`${url}: no objects under this prefix`);
    let bytes = 0;
    const refused = new SkipList('objects refused');
    for (const key of keys) {
      const file = `${url}/${printableName(key)}`;
      const target = path.resolve(dir, ...key.split('/'));
      const problem =
        objectNameProblem(key) ??
        (target.startsWith(path.resolve(dir) + path.sep) ? undefined : 'escapes the mirror folder');
      if (problem) {
        refused.add({ file, reason: `object name is not a plain relative path, not mirrored (${problem})` });
        continue;
      }
      try {
        const remote = await store.stat(key);
        if (!remote) throw new ArtifactNotFoundError(key);
        const local = await stat(target).catch(() => undefined);
        if (!local || local.size !== remote.size) {
          await mkdir(path.dirname(target), { recursive: true });
          await mkdir(parts, { recursive: true });
          const part = path.join(parts, hashOf({ key }));
          try {
            await pipeline(await store.getStream(key), createWriteStream(part));
            await rename(part, target);
          } finally {
            await rm(part, { force: true });
          }
        }
        bytes += remote.size;
        onProgress?.({ phase: 'download', bytes });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        // a store opened with a stricter key rule than the dataset-name rule refuses the name: that object only
        const perObject =
          err instanceof ArtifactNotFoundError ||
          err instanceof InvalidArtifactKeyError ||
          PER_OBJECT_CODES.has(code);
        if (!perObject) throw err;
        const why = err instanceof ArtifactNotFoundError ? 'object vanished while mirroring' : code;
        refused.add({
          file,
          reason: `cannot be mirrored (${why}): ${printableName((err as Error).message)}`,
        });
      }
    }
    return { dir, refused: refused.toList(url) };
  } finally {
    await store.close();
  }
}
