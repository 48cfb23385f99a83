import type { Readable } from 'node:stream';
import type { Sample } from './sample';

/**
 * The lossless training shard: decoded pixels, so an epoch costs no image decoding.
 * Layout: 8-byte magic, uint32 LE header length, header JSON (per sample: id, label, size, mask flag), then per
 * sample its RGB bytes (w*h*3) followed by its mask bytes (w*h) when it has one.
 */
const MAGIC = Buffer.from('BGRAW\0\0\u0001', 'latin1');

interface RawShardHeader {
  samples: { id: string; label: number; width: number; height: number; mask: boolean }[];
}

/** A header longer than this is not a shard of ours (ids of 100k samples fit in a few MB). */
const MAX_HEADER_BYTES = 64 * 2 ** 20;
/**
 * Largest image side a shard holds, for reader and writer alike: the reader refuses larger sides before any
 * allocation, the writer refuses to write them, and decoding (decode.ts) skips such an image by name at import.
 */
export const MAX_SIDE = 65_535;

const validSide = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_SIDE;

function parseHeader(len: number, bytes: () => Buffer, name: string): RawShardHeader {
  if (len > MAX_HEADER_BYTES) throw new Error(`${name}: header of ${len} bytes is over ${MAX_HEADER_BYTES}`);
  let header: RawShardHeader;
  try {
    header = JSON.parse(bytes().toString('utf8')) as RawShardHeader;
  } catch (err) {
    throw new Error(`${name}: unreadable header: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(header?.samples)) throw new Error(`${name}: header has no samples list`);
  for (const h of header.samples) {
    if (!validSide(h.width) || !validSide(h.height) || !Number.isInteger(h.label) || typeof h.id !== 'string')
      throw new Error(`${name}: bad sample entry ${JSON.stringify(h).slice(0, 200)}`);
  }
  return header;
}

function headerOf(samples: Sample[]): Buffer {
  const header: RawShardHeader = {
    samples: samples.map((s) => ({
      id: s.id,
      label: s.label,
      width: s.width,
      height: s.height,
      mask: s.mask !== undefined,
    })),
  };
  return Buffer.from(JSON.stringify(header), 'utf8');
}

/** The byte size encodeRawShard(samples) has, without building it. */
export function rawShardBytes(samples: Sample[]): number {
  let n = MAGIC.length + 4 + headerOf(samples).length;
  for (const s of samples) n += s.width * s.height * (s.mask ? 4 : 3);
  return n;
}

export function encodeRawShard(samples: Sample[]): Buffer {
  const headerBuf = headerOf(samples);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBuf.length, 0);
  const parts: Uint8Array[] = [MAGIC, len, headerBuf];
  for (const s of samples) {
    if (!validSide(s.width) || !validSide(s.height))
      throw new Error(`sample ${s.id}: ${s.width}x${s.height}, each side must be 1..${MAX_SIDE}`);
    if (s.rgb.length !== s.width * s.height * 3)
      throw new Error(`sample ${s.id}: rgb has ${s.rgb.length} bytes, expected ${s.width * s.height * 3}`);
    parts.push(s.rgb);
    if (s.mask) {
      if (s.mask.length !== s.width * s.height)
        throw new Error(`sample ${s.id}: mask has ${s.mask.length} bytes, expected ${s.width * s.height}`);
      parts.push(s.mask);
    }
  }
  return Buffer.concat(parts);
}

/** Samples are views into `buf` (no copies); copy them if the buffer is reused. */
export function decodeRawShard(buf: Buffer, name = 'raw shard'): Sample[] {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC))
    throw new Error(`${name}: not a bgstudy raw shard (bad magic)`);
  const headerLen = buf.readUInt32LE(8);
  if (headerLen <= MAX_HEADER_BYTES && 12 + headerLen > buf.length)
    throw new Error(`${name}: truncated header`);
  const header = parseHeader(headerLen, () => buf.subarray(12, 12 + headerLen), name);
  let off = 12 + headerLen;
  const out: Sample[] = [];
  for (const h of header.samples) {
    const n = h.width * h.height;
    const need = n * 3 + (h.mask ? n : 0);
    if (off + need > buf.length) throw new Error(`${name}: truncated at sample ${h.id}`);
    const sample: Sample = {
      id: h.id,
      label: h.label,
      width: h.width,
      height: h.height,
      rgb: new Uint8Array(buf.buffer, buf.byteOffset + off, n * 3),
    };
    off += n * 3;
    if (h.mask) {
      sample.mask = new Uint8Array(buf.buffer, buf.byteOffset + off, n);
      off += n;
    }
    out.push(sample);
  }
  if (off !== buf.length) throw new Error(`${name}: ${buf.length - off} trailing bytes`);
  return out;
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
    if (head.length < 12 || !head.subarray(0, 8).equals(MAGIC))
      throw new Error(`${name}: not a bgstudy raw shard (bad magic)`);
    const headerLen = head.readUInt32LE(8);
    let headerBytes: Buffer = Buffer.alloc(0);
    if (headerLen <= MAX_HEADER_BYTES) {
      headerBytes = await reader.read(headerLen);
      if (headerBytes.length < headerLen) throw new Error(`${name}: truncated header`);
    }
    const header = parseHeader(headerLen, () => headerBytes, name);
    for (const h of header.samples) {
      const n = h.width * h.height;
      const rgb = await reader.read(n * 3);
      const mask = h.mask ? await reader.read(n) : undefined;
      if (rgb.length < n * 3 || (mask && mask.length < n))
        throw new Error(`${name}: truncated at sample ${h.id}`);
      const sample: Sample = { id: h.id, label: h.label, width: h.width, height: h.height, rgb };
      if (mask) sample.mask = mask;
      yield sample;
    }
    if (!(await reader.atEnd())) throw new Error(`${name}: trailing bytes after the last sample`);
  } finally {
    stream.destroy();
  }
}
