import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import { decodeRawShard, encodeRawShard, rawShardBytes, readRawShard } from '../../core/data/raw-shard';
import type { Sample } from '../../core/data/sample';
import { liveBytes } from '../helpers/live-memory';

/** Noisy pixels (they do not deflate much), a mask with a square, and one sample without a mask. */
function samples(): Sample[] {
  let x = 12345;
  const noise = (n: number) =>
    Uint8Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24));
  const square = (w: number, h: number) =>
    Uint8Array.from({ length: w * h }, (_, i) =>
      i % w >= 2 && i % w < 6 && i / w >= 1 && i / w < 5 ? 255 : 0,
    );
  return [
    { id: 'train/a/1', label: 0, width: 8, height: 6, rgb: noise(8 * 6 * 3), mask: square(8, 6) },
    { id: 'train/b/2', label: 1, width: 5, height: 7, rgb: noise(5 * 7 * 3) },
    {
      id: 'train/a/3',
      label: 0,
      width: 31,
      height: 17,
      rgb: new Uint8Array(31 * 17 * 3).fill(200),
      mask: square(31, 17),
    },
  ];
}

const plain = (s: Sample) => ({ ...s, rgb: Buffer.from(s.rgb), mask: s.mask && Buffer.from(s.mask) });

/** A version-1 shard, built here from its documented layout (not by the code under test). */
function v1Shard(list: Sample[]): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      samples: list.map((s) => ({
        id: s.id,
        label: s.label,
        width: s.width,
        height: s.height,
        mask: !!s.mask,
      })),
    }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  const body = list.flatMap((s) => [s.rgb, ...(s.mask ? [s.mask] : [])]);
  return Buffer.concat([Buffer.from('BGRAW\0\0\u0001', 'latin1'), len, header, ...body]);
}

/** A version-2 shard from its documented layout: each sample's RGB and mask deflated, their lengths listed. */
function v2Shard(entries: object[], body: Buffer[]): Buffer {
  const header = Buffer.from(JSON.stringify({ samples: entries }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  return Buffer.concat([Buffer.from('BGRAW\0\0\u0002', 'latin1'), len, header, ...body]);
}

async function streamed(buf: Buffer): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of readRawShard(Readable.from([buf]), 'x.bgraw')) out.push(s);
  return out;
}

test('a written shard reads back to the same pixels and masks, whole or streamed, and is deflated', async () => {
  const list = samples();
  const buf = await encodeRawShard(list);
  assert.equal(buf.subarray(0, 8).toString('latin1'), 'BGRAW\0\0\u0002');
  assert.deepEqual((await decodeRawShard(buf, 'x.bgraw')).map(plain), list.map(plain));
  assert.deepEqual((await streamed(buf)).map(plain), list.map(plain));
  // plain arrays, not Buffers: consumers copy with .slice(), which on a Buffer is a view (and a transferred view detaches the cache's copy)
  for (const s of [...(await decodeRawShard(buf)), ...(await streamed(buf))])
    assert.ok(!Buffer.isBuffer(s.rgb) && !Buffer.isBuffer(s.mask));
  // the flat third image and the masks shrink; the noise does not grow by more than zlib's framing
  // the size budgets count the version-1 form (what readers held before), so shards group and shuffle as before
  const decoded = rawShardBytes(list);
  assert.equal(decoded, v1Shard(list).length);
  assert.ok(buf.length < decoded, `stored ${buf.length} bytes for ${decoded} decoded`);
});

test('version-1 shards (pixels as they are) are still read, whole and streamed', async () => {
  const list = samples();
  const buf = v1Shard(list);
  assert.deepEqual((await decodeRawShard(buf, 'old.bgraw')).map(plain), list.map(plain));
  assert.deepEqual((await streamed(buf)).map(plain), list.map(plain));
});

test('a hostile version-2 shard fails naming the shard and the sample, never allocating past its image size', async () => {
  const rgb = new Uint8Array(4 * 4 * 3).fill(7);
  const good = deflateSync(rgb);
  const entry = (over: object = {}) => ({
    id: 'a',
    label: 0,
    width: 4,
    height: 4,
    mask: false,
    rgbBytes: good.length,
    ...over,
  });
  // a small bomb: 100,000 zeros in ~100 bytes, claimed to be a 4x4 image
  const bomb = deflateSync(Buffer.alloc(100_000));
  const corrupt = Buffer.from(good);
  corrupt[4] = corrupt[4]! ^ 0xff;
  const cases: [Buffer, RegExp][] = [
    [v2Shard([entry()], [good]), /^$/], // the control: reads
    [v2Shard([entry({ rgbBytes: bomb.length })], [bomb]), /x.bgraw: sample a rgb: corrupt pixel data/],
    [
      v2Shard([entry({ rgbBytes: deflateSync(rgb.subarray(3)).length })], [deflateSync(rgb.subarray(3))]),
      /x.bgraw: sample a rgb: 45 bytes of pixels, expected 48/,
    ],
    [v2Shard([entry()], [corrupt]), /x.bgraw: sample a rgb: corrupt pixel data/],
    [v2Shard([entry()], [good.subarray(0, 5)]), /x.bgraw: truncated at sample a/],
    [v2Shard([entry({ rgbBytes: 1e9 })], [good]), /x.bgraw: bad sample entry/],
    [v2Shard([entry({ rgbBytes: undefined })], [good]), /x.bgraw: bad sample entry/],
    [v2Shard([entry({ mask: true })], [good]), /x.bgraw: bad sample entry/], // a mask with no stored length
    [v2Shard([entry()], [good, Buffer.from([1])]), /trailing bytes/],
  ];
  for (const [buf, err] of cases) {
    if (err.source === '^$') {
      assert.deepEqual([...(await decodeRawShard(buf, 'x.bgraw'))[0]!.rgb], [...rgb]);
      continue;
    }
    await assert.rejects(decodeRawShard(buf, 'x.bgraw'), err);
    await assert.rejects(streamed(buf), err);
  }
});

test('a deflated shard streams sample by sample: live memory stays far below its decoded size', async () => {
  const side = 512;
  const count = 96; // 96 samples of 1 MiB decoded (RGB + mask), as shard-memory.test.ts's version-1 shard
  const list: Sample[] = Array.from({ length: count }, (_, i) => ({
    id: `s${i}`,
    label: i % 3,
    width: side,
    height: side,
    rgb: new Uint8Array(side * side * 3).fill(i % 256),
    mask: new Uint8Array(side * side).fill(i % 2 ? 255 : 0),
  }));
  const buf = await encodeRawShard(list);
  list.length = 0;
  const base = liveBytes();
  let peak = 0;
  let n = 0;
  for await (const s of readRawShard(Readable.from([buf]), 'big.bgraw')) {
    assert.equal(s.rgb[12345], n % 256);
    assert.equal(s.mask![777], n % 2 ? 255 : 0);
    if (n % 8 === 0) peak = Math.max(peak, liveBytes() - base);
    n++;
  }
  assert.equal(n, count);
  // a sample or two, zlib's buffers and V8 freeing external memory lazily (spikes of ~16 MiB seen), not 96 MiB
  assert.ok(peak < 24 * 2 ** 20, `live memory grew by ${(peak / 2 ** 20).toFixed(1)} MiB for a 96 MiB shard`);
});
