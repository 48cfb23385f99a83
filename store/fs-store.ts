import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactNotFoundError } from '../common/errors';
import type { ArtifactBody, ArtifactInfo, ArtifactStore } from './artifact-store';
import { assertValidKey, assertValidPrefix } from './keys';

const TMP_MARK = '.tmp-';

/** The embedded default: a local folder. Writes go to a temp file beside the target, then rename (atomic on POSIX). */
export class FsArtifactStore implements ArtifactStore {
  readonly location: string;

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
    const tmp = `${target}${TMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      if (body instanceof Readable) await pipeline(body, createWriteStream(tmp));
      else await writeFile(tmp, body);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
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
        else if (e.isFile() && !e.name.includes(TMP_MARK) && key.startsWith(prefix)) keys.push(key);
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
