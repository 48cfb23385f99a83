import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { hashOf } from '../hash';

export interface FetchProgress {
  phase: 'download' | 'verify' | 'extract';
  bytes: number;
  /** Total bytes when the server says (download), else undefined. */
  total?: number;
}

export interface FetchArchiveOptions {
  /** Where downloads and extracted trees are kept (reused across runs). */
  cacheDir: string;
  /** Expected sha256 of the archive (hex); a mismatch deletes the download and throws. */
  sha256?: string;
  onProgress?: (p: FetchProgress) => void;
}

/**
 * Downloads a .tar.gz once and extracts it, returning the extracted folder (descending into a single top-level
 * folder, as release archives have). Resumable: an interrupted download continues with an HTTP Range request; a
 * finished one is kept. Checksum-verified when `sha256` is given. Entries that would escape the folder are refused.
 */
export async function fetchArchive(url: string, options: FetchArchiveOptions): Promise<string> {
  const id = hashOf({ url, sha256: options.sha256 ?? null });
  await mkdir(options.cacheDir, { recursive: true });
  const dir = path.join(options.cacheDir, id);
  const done = path.join(dir, '.bgstudy-extracted');
  if (!(await exists(done))) {
    const archive = path.join(options.cacheDir, `${id}.tar.gz`);
    if (!(await exists(archive))) await download(url, archive, options);
    if (options.sha256) {
      options.onProgress?.({ phase: 'verify', bytes: 0 });
      const actual = await sha256File(archive);
      if (actual !== options.sha256.toLowerCase()) {
        await rm(archive, { force: true });
        throw new Error(
          `${url}: sha256 is ${actual}, expected ${options.sha256} (download deleted; retry to fetch again)`,
        );
      }
    }
    await rm(dir, { recursive: true, force: true });
    await extractTarGz(archive, dir, options.onProgress);
    await writeFile(done, new Date().toISOString());
  }
  const top = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  return top.length === 1 && top[0]!.isDirectory() ? path.join(dir, top[0]!.name) : dir;
}

async function download(url: string, target: string, options: FetchArchiveOptions): Promise<void> {
  const part = `${target}.part`;
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  const res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  // 206: the server continues where the last attempt stopped; 200: it sent everything again
  const resumed = res.status === 206;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined;
  let bytes = resumed ? have : 0;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (c: Buffer) => {
    bytes += c.length;
    options.onProgress?.({ phase: 'download', bytes, total });
  });
  await pipeline(body, createWriteStream(part, { flags: resumed ? 'a' : 'w' }));
  if (total !== undefined && bytes !== total)
    throw new Error(`${url}: download ended at ${bytes} of ${total} bytes`);
  await rename(part, target);
}

async function extractTarGz(
  archive: string,
  dir: string,
  onProgress?: (p: FetchProgress) => void,
): Promise<void> {
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  const ex = extract();
  let bytes = 0;
  ex.on('entry', (header, stream, next) => {
    const target = path.resolve(root, header.name);
    const fail = (err: unknown) => {
      stream.resume();
      next(err as Error);
    };
    if (target !== root && !target.startsWith(root + path.sep))
      return fail(new Error(`${archive}: entry "${header.name}" escapes the archive folder`));
    if (header.type === 'directory') {
      stream.resume();
      mkdir(target, { recursive: true }).then(() => next(), fail);
    } else if (header.type === 'file') {
      mkdir(path.dirname(target), { recursive: true })
        .then(() => pipeline(stream, createWriteStream(target)))
        .then(() => {
          bytes += header.size ?? 0;
          onProgress?.({ phase: 'extract', bytes });
          next();
        }, fail);
    } else {
      // links and devices are not part of an image dataset
      stream.resume();
      next();
    }
  });
  await pipeline(createReadStream(archive), createGunzip(), ex);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined)) !== undefined;
}
