import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../../store/artifact-store';
import { assertValidKey } from '../../store/keys';
import { hashOf } from '../hash';
import type { FetchProgress } from './fetch-archive';
import type { SkippedFile } from './manifest';
import { printableName } from './safe-names';

/** Opens the objects under `s3://bucket/prefix` as a store (same endpoint and credentials as the artifact store). */
export type S3PrefixOpener = (bucket: string, prefix: string) => ArtifactStore;

export function parseS3Url(url: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return m ? { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') } : undefined;
}

/**
 * Mirrors every object under an S3 prefix into `<cacheDir>/<hash of the url>/`, so the folder readers can list
 * and decode it. Resumable: objects already mirrored with the same size are not fetched again; each object is
 * written to a temp file and renamed, so a half-written file is never taken for a mirrored one. Object names
 * that are not plain relative paths (`..`, absolute, odd characters: store/keys.ts) are refused by name and
 * returned, never written.
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
  try {
    const keys = await store.list('');
    if (keys.length === 0) throw new Error(`${url}: no objects under this prefix`);
    let bytes = 0;
    const refused: SkippedFile[] = [];
    for (const key of keys) {
      const target = path.resolve(dir, ...key.split('/'));
      try {
        assertValidKey(key);
        if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error('escapes the mirror folder');
      } catch (err) {
        refused.push({
          file: `${url}/${printableName(key)}`,
          reason: `object name is not a plain relative path, not mirrored (${(err as Error).message})`,
        });
        continue;
      }
      const remote = await store.stat(key);
      const local = await stat(target).catch(() => undefined);
      if (!local || local.size !== remote?.size) {
        await mkdir(path.dirname(target), { recursive: true });
        await pipeline(await store.getStream(key), createWriteStream(`${target}.part`));
        await rename(`${target}.part`, target);
      }
      bytes += remote?.size ?? 0;
      onProgress?.({ phase: 'download', bytes });
    }
    return { dir, refused };
  } finally {
    await store.close();
  }
}
