import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactNotFoundError } from '../common/errors';
import type { ArtifactBody, ArtifactInfo, ArtifactStore } from './artifact-store';
import { assertValidKey, assertValidPrefix } from './keys';

const TMP_MARK = '.tmp-';

/**
 * A temp file this old is left over from a writer that died (SIGKILL, power loss): a live write keeps its file's
 * modification time fresh. Such files are removed when a write goes to their folder or a listing passes them.
 */
export const STALE_TMP_MS = 60 * 60 * 1000;

/** Removes `file` when it is a temp file older than STALE_TMP_MS; true when it was. */
async function removeIfStale(file: string): Promise<boolean> {
  const st = await stat(file).catch(() => undefined);
  if (!st || Date.now() - st.mtimeMs < STALE_TMP_MS) return false;
  await rm(file, { force: true });
  return true;
}

/**
 * The embedded default: a local folder. Writes go to a temp file beside the target, flushed to disk (fsync),
 * then renamed (atomic on POSIX), so a crash leaves the old object or the new one, never a torn one. Temp files
 * of writers that died are removed once stale (STALE_TMP_MS).
 */
export class FsArtifactStore implements ArtifactStore {
  readonly location: string;
  /** Folders already swept for stale temp files by this process. */
  private readonly swept = new Set<string>();

  constructor(private readonly root: string) {
    this.root = path.resolve(root);
    this.location = `file://${this.root}`;
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: ArtifactBody): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    await this.sweep(path.dirname(target));
    const tmp = `${target}${TMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      if (body instanceof Readable) await pipeline(body, createWriteStream(tmp));
      else await writeFile(tmp, body);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Removes stale temp files from a folder, once per folder per process. */
  private async sweep(dir: string): Promise<void> {
    if (this.swept.has(dir)) return;
    this.swept.add(dir);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (name.includes(TMP_MARK)) await removeIfStale(path.join(dir, name));
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      throw notFoundOr(err, key);
    }
  }

  async getStream(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    if (!(await this.stat(key))) throw new ArtifactNotFoundError(key);
    return createReadStream(file);
  }

  async stat(key: string): Promise<ArtifactInfo | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size, modified: s.mtime } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    // Walk the deepest folder the prefix names, then filter by the full prefix.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(path.join(this.root, ...rel.split('/').filter(Boolean)), {
          withFileTypes: true,
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(key);
        else if (e.isFile() && e.name.includes(TMP_MARK))
          await removeIfStale(path.join(this.root, ...key.split('/')));
        else if (e.isFile() && key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(dirPart);
    return keys.sort();
  }

  /** Removes the file, then its folders up to the root while they are empty (pruned checkpoints leave none). */
  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await rm(file, { force: true });
    for (
      let dir = path.dirname(file);
      dir !== this.root && dir.startsWith(this.root);
      dir = path.dirname(dir)
    ) {
      try {
        await rmdir(dir);
      } catch {
        break; // not empty (or already gone): the folders above are not empty either
      }
    }
  }

  async close(): Promise<void> {}
}

function notFoundOr(err: unknown, key: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EISDIR' ? new ArtifactNotFoundError(key) : err;
}
