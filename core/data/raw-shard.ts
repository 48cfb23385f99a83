import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { mapLimit } from '../../common/map-limit';
import type { Sample } from './sample';

/**
 * The lossless training shard. Layout: 8-byte magic, uint32 LE header length, header JSON (per sample: id, label,
 * size, mask flag), then per sample its RGB bytes (w*h*3) followed by its mask bytes (w*h) when it has one.
 * Version 2 (what is written) deflates each sample's RGB and mask separately (zlib, level 1) and lists their
 * stored lengths in the header: as small as the images' PNGs and inflated at well over a thousand 224 px images
 * a second per thread (bench/RESULTS.md "Dataset shards"). Version 1 (the pixels as they are) is still read.
 */
const MAGIC_V1 = Buffer.from('BGRAW\0\0\u0001', 'latin1');
const MAGIC_V2 = Buffer.from('BGRAW\0\0\u0002', 'latin1');
/** Level 1: level 6 saves ~3 % more at several times the write cost; inflating costs the same either way. */
const DEFLATE_LEVEL = 1;
/**
 * Images deflated at once on libuv's pool (4 threads unless UV_THREADPOOL_SIZE says more): enough to keep it
 * busy, while a deflate stream's state (~280 KiB) exists only for those in flight. 3,000 images at 224 px: data
 * worker peak RSS ~1,060 MiB with a whole shard at once, ~980 with 32, ~940 with 8 (but prepare ~10 % slower).
 */
const DEFLATE_LANES = 32;

interface SampleEntry {
  id: string;
  label: number;
  width: number;
  height: number;
  mask: boolean;
  /** Version 2: stored (deflated) lengths of the RGB and of the mask. */
  rgbBytes?: number;
  maskBytes?: number;
}

interface RawShardHeader {
  samples: SampleEntry[];
}

/** A header longer than this is not a shard of ours (ids of 100k samples fit in a few MB). */
const MAX_HEADER_BYTES = 64 * 2 ** 20;
/**
 * Largest image side a shard holds, for reader and writer alike: the reader refuses larger sides before any
 * allocation, the writer refuses to write them, and decoding (decode.ts) skips such an image by name at import.
 */
export const MAX_SIDE = 65_535;

const validSide = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_SIDE;
/** A deflated length: zlib's worst case is a few bytes per 16 KiB block over the input, so 2x plus 64 bounds it. */
const validStored = (v: unknown, n: number) =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 2 * n + 64;

function versionOf(head: Buffer, name: string): 1 | 2 {
  if (head.length >= 12) {
    const magic = head.subarray(0, 8);
    if (magic.equals(MAGIC_V2)) return 2;
    if (magic.equals(MAGIC_V1)) return 1;
  }
  throw new Error(`${name}: not a bgstudy raw shard (bad magic)`);
}

function parseHeader(len: number, bytes: () => Buffer, name: string, version: 1 | 2): RawShardHeader {
  if (len > MAX_HEADER_BYTES) throw new Error(`${name}: header of ${len} bytes is over ${MAX_HEADER_BYTES}`);
  let header: RawShardHeader;
  try {
    header = JSON.parse(bytes().toString('utf8')) as RawShardHeader;
  } catch (err) {
    throw new Error(`${name}: unreadable header: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(header?.samples)) throw new Error(`${name}: header has no samples list`);
  for (const h of header.samples) {
    const ok =
      validSide(h.width) &&
      validSide(h.height) &&
      Number.isInteger(h.label) &&
      typeof h.id === 'string' &&
      (version === 1 ||
        (validStored(h.rgbBytes, h.width * h.height * 3) &&
          (!h.mask || validStored(h.maskBytes, h.width * h.height))));
    if (!ok) throw new Error(`${name}: bad sample entry ${JSON.stringify(h).slice(0, 200)}`);
  }
  return header;
}

/** Bytes a sample takes in the shard's body. */
function storedBytes(h: SampleEntry, version: 1 | 2): { rgb: number; mask: number } {
  const n = h.width * h.height;
  if (version === 1) return { rgb: n * 3, mask: h.mask ? n : 0 };
  return { rgb: h.rgbBytes!, mask: h.mask ? h.maskBytes! : 0 };
}

const deflate = (data: Uint8Array) =>
  new Promise<Buffer>((resolve, reject) =>
    zlib.deflate(data, { level: DEFLATE_LEVEL }, (err, out) => (err ? reject(err) : resolve(out))),
  );

/** A sample's header entry, as version 1 has it (version 2 adds the stored lengths). */
const entryOf = (s: Sample): SampleEntry => ({
  id: s.id,
  label: s.label,
  width: s.width,
  height: s.height,
  mask: s.mask !== undefined,
});

/**
 * The size of these samples' shard in version 1 (magic, header, pixels as they are): what a reader holds in
 * memory, and budgets by. Kept to that formula so that readers group shards (and so shuffle) as before.
 */
export function rawShardBytes(samples: Sample[]): number {
  const header: RawShardHeader = { samples: samples.map(entryOf) };
  let n = MAGIC_V1.length + 4 + Buffer.byteLength(JSON.stringify(header), 'utf8');
  for (const s of samples) n += s.width * s.height * (s.mask ? 4 : 3);
  return n;
}

/** A version-2 shard of `samples` (their pixels deflated on libuv's thread pool, DEFLATE_LANES at a time). */
export async function encodeRawShard(samples: Sample[]): Promise<Buffer> {
  for (const s of samples) {
    if (!validSide(s.width) || !validSide(s.height))
      throw new Error(`sample ${s.id}: ${s.width}x${s.height}, each side must be 1..${MAX_SIDE}`);
    if (s.rgb.length !== s.width * s.height * 3)
      throw new Error(`sample ${s.id}: rgb has ${s.rgb.length} bytes, expected ${s.width * s.height * 3}`);
    if (s.mask && s.mask.length !== s.width * s.height)
      throw new Error(`sample ${s.id}: mask has ${s.mask.length} bytes, expected ${s.width * s.height}`);
  }
  const stored = await mapLimit(samples, DEFLATE_LANES, async (s) => ({
    rgb: await deflate(s.rgb),
    mask: s.mask ? await deflate(s.mask) : undefined,
  }));
  const header: RawShardHeader = {
    samples: samples.map((s, i) => ({
      ...entryOf(s),
      rgbBytes: stored[i]!.rgb.length,
      ...(s.mask ? { maskBytes: stored[i]!.mask!.length } : {}),
    })),
  };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBuf.length, 0);
  const parts: Uint8Array[] = [MAGIC_V2, len, headerBuf];
  for (const s of stored) parts.push(s.rgb, ...(s.mask ? [s.mask] : []));
  return Buffer.concat(parts);
}

type Inflate = (data: Buffer, n: number, what: string) => Promise<Buffer>;

/**
 * Inflates one stored block to exactly `n` bytes, never more (a forged block cannot allocate past it). One
 * output chunk of the image's size: zlib's default 16 KiB chunks, gathered and joined, cost 2-3x the inflating.
 */
const zlibOptions = (n: number) => ({ maxOutputLength: n, chunkSize: Math.max(64, n) });

const wrongLength = (out: Buffer, n: number, what: string) =>
  new Error(`${what}: ${out.length} bytes of pixels, expected ${n}`);

const corrupt = (err: unknown, what: string) =>
  new Error(`${what}: corrupt pixel data (${(err as Error).message})`, { cause: err });

/** On libuv's thread pool: a whole shard's samples inflate in parallel. */
const inflateOnPool: Inflate = (data, n, what) =>
  new Promise((resolve, reject) =>
    zlib.inflate(data, zlibOptions(n), (err, out) => {
      if (err) reject(corrupt(err, what));
      else if (out.length !== n) reject(wrongLength(out, n, what));
      else resolve(out);
    }),
  );

/** On this thread: for a shard streamed one sample at a time, where a round trip to the pool costs more. */
const inflateHere: Inflate = async (data, n, what) => {
  let out: Buffer;
  try {
    out = zlib.inflateSync(data, zlibOptions(n));
  } catch (err) {
    throw corrupt(err, what);
  }
  if (out.length !== n) throw wrongLength(out, n, what);
  return out;
};

/**
 * A plain Uint8Array over a Buffer's bytes: consumers copy pixels with `.slice()`, which on a Buffer is a view
 * (so a copy posted to a worker with its buffer transferred would detach the cached sample).
 */
const plainView = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);

/** A sample's pixels from its stored bytes: views into them (version 1) or inflated (version 2). */
async function pixelsOf(
  h: SampleEntry,
  version: 1 | 2,
  rgb: Buffer,
  mask: Buffer | undefined,
  name: string,
  inflate: Inflate,
): Promise<Sample> {
  const n = h.width * h.height;
  const what = `${name}: sample ${h.id}`;
  const sample: Sample = {
    id: h.id,
    label: h.label,
    width: h.width,
    height: h.height,
    rgb: plainView(version === 1 ? rgb : await inflate(rgb, n * 3, `${what} rgb`)),
  };
  if (mask) sample.mask = plainView(version === 1 ? mask : await inflate(mask, n, `${what} mask`));
  return sample;
}

/**
 * Every sample of a whole shard in memory. Version 1: views into `buf` (no copies; copy them if the buffer is
 * reused); version 2: inflated on libuv's thread pool, all queued at once (an inflate stream's
 * state is ~40 KiB; lanes, as for deflating, cost ~15 % of the variant stage's speed here).
 */
export async function decodeRawShard(buf: Buffer, name = 'raw shard'): Promise<Sample[]> {
  const version = versionOf(buf, name);
  const headerLen = buf.readUInt32LE(8);
  if (headerLen <= MAX_HEADER_BYTES && 12 + headerLen > buf.length)
    throw new Error(`${name}: truncated header`);
  const header = parseHeader(headerLen, () => buf.subarray(12, 12 + headerLen), name, version);
  let off = 12 + headerLen;
  const blocks: { h: SampleEntry; rgb: Buffer; mask?: Buffer }[] = [];
  for (const h of header.samples) {
    const need = storedBytes(h, version);
    if (off + need.rgb + need.mask > buf.length) throw new Error(`${name}: truncated at sample ${h.id}`);
    const rgb = buf.subarray(off, off + need.rgb);
    off += need.rgb;
    const mask = h.mask ? buf.subarray(off, off + need.mask) : undefined;
    off += need.mask;
    blocks.push({ h, rgb, mask });
  }
  if (off !== buf.length) throw new Error(`${name}: ${buf.length - off} trailing bytes`);
  return Promise.all(blocks.map((b) => pixelsOf(b.h, version, b.rgb, b.mask, name, inflateOnPool)));
}

/** Reads exact byte counts from a stream, holding at most one chunk beyond what was asked for. */
class ExactReader {
  private readonly it: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);
  constructor(stream: Readable) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
  /** Exactly n bytes in a fresh buffer, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    let have = 0;
    while (have < n) {
      if (this.rest.length === 0) {
        const next = await this.it.next();
        if (next.done) return out.subarray(0, have);
        this.rest = next.value;
      }
      const take = Math.min(n - have, this.rest.length);
      this.rest.copy(out, have, 0, take);
      this.rest = this.rest.subarray(take);
      have += take;
    }
    return out;
  }
  async atEnd(): Promise<boolean> {
    if (this.rest.length > 0) return false;
    const next = await this.it.next();
    if (next.done) return true;
    this.rest = next.value;
    return false;
  }
}

/**
 * Streams a raw shard sample by sample: memory is one sample plus one stream chunk, whatever the shard's size
 * (what decodeRawShard holds is the whole shard). Samples own their bytes.
 */
export async function* readRawShard(stream: Readable, name = 'raw shard'): AsyncGenerator<Sample> {
  const reader = new ExactReader(stream);
  try {
    const head = await reader.read(12);
    const version = versionOf(head, name);
    const headerLen = head.readUInt32LE(8);
    let headerBytes: Buffer = Buffer.alloc(0);
    if (headerLen <= MAX_HEADER_BYTES) {
      headerBytes = await reader.read(headerLen);
      if (headerBytes.length < headerLen) throw new Error(`${name}: truncated header`);
    }
    const header = parseHeader(headerLen, () => headerBytes, name, version);
    for (const h of header.samples) {
      const need = storedBytes(h, version);
      const rgb = await reader.read(need.rgb);
      const mask = h.mask ? await reader.read(need.mask) : undefined;
      if (rgb.length < need.rgb || (mask && mask.length < need.mask))
        throw new Error(`${name}: truncated at sample ${h.id}`);
      yield await pixelsOf(h, version, rgb, mask, name, inflateHere);
    }
    if (!(await reader.atEnd())) throw new Error(`${name}: trailing bytes after the last sample`);
  } finally {
    stream.destroy();
  }
}
