import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  statfs,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { hashOf } from '../hash';
import type { SkippedFile } from './manifest';
import { printableName } from './safe-names';
import { SkipList } from './skip-list';

export interface FetchProgress {
  phase: 'download' | 'verify' | 'extract';
  bytes: number;
  /** Total bytes when the server says (download), else undefined. */
  total?: number;
}

/** Limits on what a URL source may cost; each has a default that fits ImageNet-sized releases. */
export interface FetchLimits {
  /** Largest download accepted (bytes). Default 16 GiB. */
  maxBytes?: number;
  /** Redirects followed before giving up. Default 5. */
  maxRedirects?: number;
  /** A connection that sends nothing for this long (headers or body) is dropped. Default 60 s. */
  stallTimeoutMs?: number;
  /**
   * Largest total size of the extracted files (bytes): a gzip bomb stops here. Default 64 GiB, and never more
   * than the free disk space less DISK_RESERVE_BYTES.
   */
  maxExtractedBytes?: number;
  /** Most entries an archive may have (millions of empty files exhaust inodes, not bytes). Default 5,000,000. */
  maxEntries?: number;
}

export const DEFAULT_FETCH_LIMITS: Required<FetchLimits> = {
  maxBytes: 16 * 2 ** 30,
  maxRedirects: 5,
  stallTimeoutMs: 60_000,
  maxExtractedBytes: 64 * 2 ** 30,
  maxEntries: 5_000_000,
};

export interface FetchArchiveOptions extends FetchLimits {
  /** Where downloads and extracted trees are kept (reused across runs). */
  cacheDir: string;
  /** Expected sha256 of the archive (hex); a mismatch deletes the download and throws. */
  sha256?: string;
  onProgress?: (p: FetchProgress) => void;
}

export interface FetchedArchive {
  /** The extracted folder (its single top-level folder, when it has one). */
  dir: string;
  /**
   * Entries not extracted, by name: links, devices, FIFOs, absolute or `..` paths, names the file system
   * refuses. At most MAX_LISTED_SKIPS by name, then one entry counting the rest.
   */
  refused: SkippedFile[];
}

const REFUSED_FILE = '.bgstudy-refused.json';

/**
 * Downloads a .tar.gz once and extracts it. Resumable: an interrupted download continues with an HTTP Range
 * request; a finished one is kept. Checksum-verified when `sha256` is given. Bounded: size, redirects, stalls and
 * the extracted size have limits (FetchLimits). Only plain files and folders are extracted, and only inside the
 * target: symbolic and hard links (wherever they point), devices, FIFOs, absolute paths and `..` are refused by
 * name and reported, the rest of the archive is extracted.
 */
export async function fetchArchive(url: string, options: FetchArchiveOptions): Promise<FetchedArchive> {
  const limits = { ...DEFAULT_FETCH_LIMITS, ...definedOnly(options) };
  const id = hashOf({ url, sha256: options.sha256 ?? null });
  await mkdir(options.cacheDir, { recursive: true });
  const dir = path.join(options.cacheDir, id);
  const done = path.join(dir, '.bgstudy-extracted');
  // an extraction without its list of refused entries predates that list: extract again so they are reported
  if (!(await exists(done)) || !(await exists(path.join(dir, REFUSED_FILE)))) {
    const archive = path.join(options.cacheDir, `${id}.tar.gz`);
    if (!(await exists(archive))) await download(url, archive, limits, options.onProgress);
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
    const refused = await extractTarGz(archive, dir, url, limits, options.onProgress);
    await writeFile(path.join(dir, REFUSED_FILE), JSON.stringify(refused));
    await writeFile(done, new Date().toISOString());
  }
  const refused = JSON.parse(await readFile(path.join(dir, REFUSED_FILE), 'utf8')) as SkippedFile[];
  const top = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  return {
    dir: top.length === 1 && top[0]!.isDirectory() ? path.join(dir, top[0]!.name) : dir,
    refused,
  };
}

function definedOnly(o: FetchLimits): FetchLimits {
  return Object.fromEntries(
    (Object.keys(DEFAULT_FETCH_LIMITS) as (keyof FetchLimits)[])
      .filter((k) => o[k] !== undefined)
      .map((k) => [k, o[k]]),
  );
}

/** GET with redirects followed by hand (counted, http(s) only) and a stall timer that the body keeps alive. */
async function download(
  url: string,
  target: string,
  limits: Required<FetchLimits>,
  onProgress?: (p: FetchProgress) => void,
): Promise<void> {
  const part = `${target}.part`;
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const stallError = new Error(
    `${url}: no data for ${limits.stallTimeoutMs / 1000} s, gave up (the server stalled; retry to resume)`,
  );
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(stallError), limits.stallTimeoutMs);
  };
  try {
    alive();
    let res: Response;
    let at = url;
    for (let redirects = 0; ; redirects++) {
      res = await fetch(at, {
        headers: have > 0 ? { Range: `bytes=${have}-` } : {},
        redirect: 'manual',
        signal: abort.signal,
      });
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) break;
      await res.body?.cancel();
      const next = new URL(location, at);
      // redirect targets often carry signed query strings (temporary credentials): errors show origin and path
      const shown = `${next.protocol}//${next.host}${next.pathname}`;
      if (redirects >= limits.maxRedirects)
        throw new Error(`${url}: more than ${limits.maxRedirects} redirects (last to ${shown})`);
      if (next.protocol !== 'https:' && next.protocol !== 'http:')
        throw new Error(`${url}: redirected to a ${next.protocol} URL (${shown}), only http(s) is followed`);
      at = next.href;
      alive();
    }
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
    // 206: the server continues where the last attempt stopped; 200: it sent everything again
    const resumed = res.status === 206;
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined;
    if (total !== undefined && total > limits.maxBytes) {
      await res.body.cancel();
      throw tooBig(url, limits.maxBytes, `the server announces ${total} bytes`);
    }
    let bytes = resumed ? have : 0;
    const counter = new Transform({
      transform(c: Buffer, _enc, cb) {
        bytes += c.length;
        alive();
        if (bytes > limits.maxBytes) return cb(tooBig(url, limits.maxBytes, 'the body went on past it'));
        onProgress?.({ phase: 'download', bytes, total });
        cb(null, c);
      },
    });
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    try {
      await pipeline(body, counter, createWriteStream(part, { flags: resumed ? 'a' : 'w' }));
    } catch (err) {
      if (abort.signal.aborted) throw stallError;
      if (bytes > limits.maxBytes) await rm(part, { force: true }); // never resume past the limit
      throw err;
    }
    if (total !== undefined && bytes !== total)
      throw new Error(`${url}: download ended at ${bytes} of ${total} bytes`);
    await rename(part, target);
  } catch (err) {
    throw abort.signal.aborted ? stallError : err;
  } finally {
    clearTimeout(timer);
  }
}

function tooBig(url: string, max: number, why: string): Error {
  return new Error(`${url}: download refused, over the limit of ${max} bytes (maxDownloadBytes): ${why}`);
}

/** Why an entry is not extracted, or undefined for a plain file or folder inside the target. */
function refusal(header: Header, root: string): string | undefined {
  const name = header.name;
  if (name.includes('\0')) return 'name contains a NUL byte';
  if (path.isAbsolute(name) || /^[a-zA-Z]:[\\/]/.test(name) || name.startsWith('\\'))
    return 'absolute path (entries must be relative)';
  if (name.split(/[\\/]/).includes('..')) return 'path contains ".." (would escape the archive folder)';
  const target = path.resolve(root, name);
  if (target !== root && !target.startsWith(root + path.sep)) return 'path escapes the archive folder';
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
    case 'directory':
      return undefined;
    case 'symlink':
      return `symbolic link to "${printableName(header.linkname ?? '')}" (links are never extracted)`;
    case 'link':
      return `hard link to "${printableName(header.linkname ?? '')}" (links are never extracted)`;
    case 'character-device':
    case 'block-device':
      return `${header.type} (device files are never extracted)`;
    case 'fifo':
      return 'FIFO (named pipes are never extracted)';
    default:
      return `entry of type ${String(header.type)} (only files and folders are extracted)`;
  }
}

/** Disk space an extraction always leaves free, whatever maxExtractedBytes allows. */
export const DISK_RESERVE_BYTES = 2 ** 30;

/**
 * The extraction cap in force: maxExtractedBytes, lowered to the free space of the target's disk less
 * DISK_RESERVE_BYTES, so a gzip bomb stops before it fills the disk rather than at a fixed 64 GiB.
 */
async function extractionCap(dir: string, maxExtractedBytes: number): Promise<{ max: number; why: string }> {
  const fs = await statfs(dir).catch(() => undefined);
  const free = fs ? fs.bavail * fs.bsize - DISK_RESERVE_BYTES : Infinity;
  return free < maxExtractedBytes
    ? { max: Math.max(0, free), why: `the free space of ${dir} less ${DISK_RESERVE_BYTES} bytes kept free` }
    : { max: maxExtractedBytes, why: 'maxExtractedBytes' };
}

/**
 * Extracts entry by entry. An entry that cannot be placed (a name the file system refuses, a file where a folder
 * is, a folder where a file is) is refused by name like a link, and the rest goes on: one bad entry never fails
 * the import, and so never fails every retry of it. Only the archive's totals stop it (maxEntries, the
 * extraction cap) and errors writing the disk. Memory does not grow with the entry count: the refused list
 * keeps MAX_LISTED_SKIPS entries and counts the rest.
 */
async function extractTarGz(
  archive: string,
  dir: string,
  url: string,
  limits: Pick<Required<FetchLimits>, 'maxExtractedBytes' | 'maxEntries'>,
  onProgress?: (p: FetchProgress) => void,
): Promise<SkippedFile[]> {
  let entries = 0;
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  const cap = await extractionCap(root, limits.maxExtractedBytes);
  const refused = new SkipList('entries refused');
  const ex = extract();
  let bytes = 0;
  ex.on('entry', (header, stream, next) => {
    const drain = () =>
      new Promise<void>((resolve) => {
        stream.once('end', () => resolve());
        stream.resume();
      });
    const place = async (): Promise<void> => {
      const file = `${url}!/${printableName(header.name)}`;
      if (++entries > limits.maxEntries)
        throw new Error(
          `${url}: more than ${limits.maxEntries} entries, stopped at ${file} (an inode bomb?)`,
        );
      const why = refusal(header, root);
      if (why) {
        refused.add({ file, reason: why });
        return drain();
      }
      const target = path.resolve(root, header.name);
      const folder = header.type === 'directory' ? target : path.dirname(target);
      // open before any byte is read: what the file system refuses (a name over 255 bytes, a folder where the
      // file goes, a file where a folder goes) is this entry's problem only
      let out: FileHandle | undefined;
      try {
        await mkdir(folder, { recursive: true });
        if (header.type === 'directory') return drain();
        out = await open(target, 'w');
      } catch (err) {
        refused.add({ file, reason: `cannot be extracted: ${(err as Error).message.replace(root, '')}` });
        return drain();
      }
      const counter = new Transform({
        transform(c: Buffer, _enc, cb) {
          bytes += c.length;
          if (bytes <= cap.max) return cb(null, c);
          cb(
            new Error(
              `${url}: extracting it would write more than ${cap.max} bytes (a gzip bomb?), stopped at ${file}; the cap is ${cap.why}`,
            ),
          );
        },
      });
      await pipeline(stream, counter, out.createWriteStream());
      onProgress?.({ phase: 'extract', bytes });
    };
    place().then(
      () => next(),
      (err: Error) => next(err),
    );
  });
  await pipeline(createReadStream(archive), createGunzip(), ex);
  return refused.toList(url);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined)) !== undefined;
}
