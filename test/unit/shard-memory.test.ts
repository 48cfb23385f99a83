import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { DataManifest } from '../../core/data/manifest';
import { decodeRawShard, readRawShard } from '../../core/data/raw-shard';
import { openSampleSource } from '../../core/data/sample-source';
import { putJson } from '../../store/json';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';
import { liveBytes } from '../helpers/live-memory';

const MAGIC = Buffer.from('BGRAW\0\0\u0001', 'latin1');
const SIDE = 512;
const COUNT = 96; // 96 samples of 1 MiB (RGB + mask): a 96 MiB shard

/** The shard's bytes, produced one sample at a time (the test never holds the whole shard either). */
function* shardChunks(): Generator<Buffer> {
  const header = Buffer.from(
    JSON.stringify({
      samples: Array.from({ length: COUNT }, (_, i) => ({
        id: `s${i}`,
        label: i % 3,
        width: SIDE,
        height: SIDE,
        mask: true,
      })),
    }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  yield Buffer.concat([MAGIC, len, header]);
  for (let i = 0; i < COUNT; i++) {
    yield Buffer.alloc(SIDE * SIDE * 3, i % 256);
    yield Buffer.alloc(SIDE * SIDE, i % 2 ? 255 : 0);
  }
}

test('a shard larger than the memory budget is streamed: live memory stays far below its size', async () => {
  const store = new FsArtifactStore(await tempDir());
  const raw = 'datasets/big/shards/train-00000.bgraw';
  await store.put(raw, Readable.from(shardChunks()));
  const bytes = (await store.stat(raw))!.size;
  assert.ok(bytes > COUNT * 2 ** 20, `the shard is ${bytes} bytes`);
  const manifest: DataManifest = {
    version: 1,
    kind: 'dataset',
    hash: 'big',
    datasetHash: 'big',
    classes: ['a', 'b', 'c'],
    splits: { train: { count: COUNT, shards: [{ raw, count: COUNT, bytes }], items: [] } },
    skipped: [],
    codeVersion: 'test',
  };
  await putJson(store, 'datasets/big/manifest.json', manifest);
  const budget = 8 * 2 ** 20;
  for (const shuffleSeed of [undefined, 3]) {
    const source = await openSampleSource(store, 'datasets/big/manifest.json', 'train', {
      cacheBytes: budget,
    });
    const base = liveBytes();
    let peak = 0;
    let n = 0;
    for await (const s of source.iterate({ shuffleSeed, skip: 2 })) {
      const i = n + 2;
      assert.equal(s.id, `s${i}`);
      assert.equal(s.rgb.length, SIDE * SIDE * 3);
      assert.equal(s.rgb[12345], i % 256);
      assert.equal(s.mask![777], i % 2 ? 255 : 0);
      if (n % 8 === 0) peak = Math.max(peak, liveBytes() - base);
      n++;
    }
    assert.equal(n, COUNT - 2);
    // the shard is 96 MiB; reading it holds a sample or two and a stream chunk
    assert.ok(peak < 24 * 2 ** 20, `live memory grew by ${(peak / 2 ** 20).toFixed(1)} MiB while reading`);
  }
});

test('hostile shards fail with a clear error before allocating what their header claims', async () => {
  const header = (h: unknown, lenOverride?: number) => {
    const body = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(lenOverride ?? body.length, 0);
    return Buffer.concat([MAGIC, len, body]);
  };
  const read = async (buf: Buffer) => {
    const out = [];
    for await (const s of readRawShard(Readable.from([buf]), 'x.bgraw')) out.push(s);
    return out;
  };
  const cases: [Buffer, RegExp][] = [
    [header({ samples: [] }, 0xffffffff), /x.bgraw: header of 4294967295 bytes is over 67108864/],
    [
      header({ samples: [{ id: 'a', label: 0, width: 1e6, height: 1e6, mask: false }] }),
      /x.bgraw: bad sample entry/,
    ],
    [
      header({ samples: [{ id: 'a', label: 0, width: 4, height: 4, mask: false }] }),
      /x.bgraw: truncated at sample a/,
    ],
    [Buffer.from('not a shard at all'), /bad magic/],
    [header({ nope: 1 }), /header has no samples list/],
  ];
  for (const [buf, err] of cases) {
    await assert.rejects(read(buf), err);
    await assert.rejects(decodeRawShard(buf, 'x.bgraw'), err);
  }
});
