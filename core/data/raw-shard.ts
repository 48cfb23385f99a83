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

export function encodeRawShard(samples: Sample[]): Buffer {
  const header: RawShardHeader = {
    samples: samples.map((s) => ({
      id: s.id,
      label: s.label,
      width: s.width,
      height: s.height,
      mask: s.mask !== undefined,
    })),
  };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBuf.length, 0);
  const parts: Uint8Array[] = [MAGIC, len, headerBuf];
  for (const s of samples) {
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
  if (12 + headerLen > buf.length) throw new Error(`${name}: truncated header`);
  const header = JSON.parse(buf.subarray(12, 12 + headerLen).toString('utf8')) as RawShardHeader;
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
