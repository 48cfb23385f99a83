/**
 * Minimal reader for NumPy .npy arrays (v1-v3 headers, C order), enough for ImageNet-9's `fg_mask/*.npy`:
 * 2-D (H, W) or 3-D (H, W, C) arrays of bool, (u)int8/16/32/64 or float32/64. Returns a 0/255 mask from channel 0.
 */
export function npyToMask(
  buf: Buffer,
  file: string,
  maxPixels = Infinity,
): { width: number; height: number; mask: Uint8Array } {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Error(`${file}: not a .npy file`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shape === undefined) throw new Error(`${file}: unreadable .npy header`);
  if (fortran) throw new Error(`${file}: Fortran-order .npy arrays are not supported`);
  const dims = shape.split(',').map((s) => s.trim()).filter(Boolean).map(Number); // prettier-ignore
  if (dims.length < 2 || dims.length > 3)
    throw new Error(`${file}: mask must be 2-D or 3-D, shape is (${dims.join(', ')})`);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1))
    throw new Error(`${file}: bad .npy shape (${dims.join(', ')})`);
  const [height, width] = [dims[0]!, dims[1]!];
  const channels = dims[2] ?? 1;
  const little = descr[0] !== '>';
  const kind = descr.slice(1);
  const size = Number(kind.slice(1));
  const read: (off: number) => number =
    kind === 'b1' || kind === 'u1' ? (o) => buf[o]!
    : kind === 'i1' ? (o) => buf.readInt8(o)
    : kind === 'u2' ? (o) => (little ? buf.readUInt16LE(o) : buf.readUInt16BE(o))
    : kind === 'i2' ? (o) => (little ? buf.readInt16LE(o) : buf.readInt16BE(o))
    : kind === 'u4' ? (o) => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
    : kind === 'i4' ? (o) => (little ? buf.readInt32LE(o) : buf.readInt32BE(o))
    : kind === 'i8' || kind === 'u8' ? (o) => Number(little ? buf.readBigInt64LE(o) : buf.readBigInt64BE(o))
    : kind === 'f4' ? (o) => (little ? buf.readFloatLE(o) : buf.readFloatBE(o))
    : kind === 'f8' ? (o) => (little ? buf.readDoubleLE(o) : buf.readDoubleBE(o))
    : () => { throw new Error(`${file}: unsupported .npy dtype ${descr}`); }; // prettier-ignore
  const n = width * height;
  if (n > maxPixels)
    throw new Error(
      `mask is ${width}x${height} = ${n} pixels, over the limit of ${maxPixels} (maxPixels in the dataset spec)`,
    );
  if (start + n * channels * size > buf.length) throw new Error(`${file}: truncated .npy data`);
  const values = new Float64Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = read(start + i * channels * size);
    values[i] = v;
    if (v > max) max = v;
  }
  // 0/1 masks, 0/255 masks and soft float masks alike: foreground is above half the maximum
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = max > 0 && values[i]! > max / 2 ? 255 : 0;
  return { width, height, mask };
}

/** Writes a 2-D uint8 .npy (used by tests to build IN-9 style fixtures). */
export function maskToNpy(
  mask: Uint8Array,
  width: number,
  height: number,
  dtype: 'u1' | 'b1' = 'u1',
): Buffer {
  let header = `{'descr': '|${dtype}', 'fortran_order': False, 'shape': (${height}, ${width}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.from(dtype === 'b1' ? mask.map((v) => (v ? 1 : 0)) : mask);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
}
