import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { hashOf } from '../../core/hash';
import { prepareDataset } from '../../core/data/prepare';
import type { SourceSpecInput } from '../../core/data/source-spec';
import { FsArtifactStore } from '../../store/fs-store';
import { writePair } from '../helpers/image-fixtures';
import { tempDir } from '../helpers/env';

/** A real HTTP server for one archive, honouring Range requests; records the Range headers it saw. */
async function serve(
  body: Buffer,
): Promise<{ url: string; ranges: (string | undefined)[]; close: () => Promise<void> }> {
  const ranges: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(start));
    } else {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bg_challenge.tar.gz`,
    ranges,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

test('in9 from a .tar.gz URL: checksum-verified, resumed with a Range request, extracted once', async () => {
  const work = await tempDir();
  const root = path.join(work, 'src', 'bg_challenge');
  for (const [k, cls] of ['00_dog', '01_bird'].entries()) {
    for (let i = 0; i < 3; i++)
      await writePair(
        `${root}/original/val/${cls}/img_${i}.JPEG`,
        `${root}/fg_mask/val/${cls}/img_${i}.npy`,
        k * 3 + i,
      );
  }
  const archive = path.join(work, 'bg.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', path.join(work, 'src'), 'bg_challenge']);
  const body = await readFile(archive);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const server = await serve(body);
  try {
    const store = new FsArtifactStore(await tempDir());
    const spec: SourceSpecInput = { source: 'in9', url: server.url, sha256 }; // splits: those present (val)

    // an interrupted earlier download: the first half is already in the cache
    const cacheDir = path.join(work, 'cache');
    await mkdir(cacheDir, { recursive: true });
    const half = Math.floor(body.length / 2);
    await writeFile(
      path.join(cacheDir, `${hashOf({ url: server.url, sha256 })}.tar.gz.part`),
      body.subarray(0, half),
    );
    const phases = new Set<string>();
    const ds = await prepareDataset(store, spec, { cacheDir, onFetchProgress: (p) => phases.add(p.phase) });
    assert.deepEqual(ds.counts, { val: 6 });
    assert.deepEqual(ds.classes, ['dog', 'bird']);
    assert.deepEqual(server.ranges, [`bytes=${half}-`]);
    assert.deepEqual([...phases].sort(), ['download', 'extract', 'verify']);

    // a second prepare finds the extracted archive and the dataset: no request
    assert.equal((await prepareDataset(store, spec, { cacheDir })).reused, true);
    assert.equal(server.ranges.length, 1);
    // the same archive in another cache folder is the same dataset
    const other = await prepareDataset(new FsArtifactStore(await tempDir()), spec, {
      cacheDir: path.join(work, 'cache2'),
    });
    assert.equal(other.datasetHash, ds.datasetHash);

    const bad = { ...spec, sha256: '0'.repeat(64) };
    await assert.rejects(prepareDataset(store, bad, { cacheDir }), /sha256 is [0-9a-f]{64}, expected 0{64}/);
    await assert.rejects(
      prepareDataset(store, { source: 'in9', splits: ['val'] }),
      /exactly one of path and url/,
    );
  } finally {
    await server.close();
  }
});
