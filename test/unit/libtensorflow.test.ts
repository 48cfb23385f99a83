import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  extractLibtensorflow,
  LIBTENSORFLOW_LIBRARIES,
  obtainWheel,
  TENSORFLOW_CPU_WHEEL,
} from '../../infra/libtensorflow';
import { cacheRoot } from '../../infra/binaries';
import { withEnv } from '../helpers/env';

test('a wheel whose sha256 is not the pinned one is refused and removed', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wheel-'));
  try {
    const fake = path.join(dir, TENSORFLOW_CPU_WHEEL.file);
    await writeFile(fake, 'not a wheel');
    await assert.rejects(
      obtainWheel(TENSORFLOW_CPU_WHEEL, dir, () => undefined),
      /sha256 [0-9a-f]{64} is not the pinned/,
    );
    assert.equal(existsSync(fake), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  return out.sort();
}

test('only the libraries and the C headers come out of the TensorFlow wheel', async (t) => {
  const wheel = path.join(cacheRoot(), 'tfjs-node', TENSORFLOW_CPU_WHEEL.file);
  if (!existsSync(wheel)) {
    assert.notEqual(process.env.BGSTUDY_REQUIRE_TFJS_NODE, '1', `${wheel} is missing after setup`);
    t.skip(`${wheel} is not downloaded here (npm run setup)`);
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'libtf-'));
  try {
    const written = await extractLibtensorflow(wheel, dir);
    const files = await filesUnder(dir);
    assert.equal(files.length, written);
    for (const lib of LIBTENSORFLOW_LIBRARIES) {
      assert.ok(files.includes(path.join('lib', lib)), `no ${lib}`);
      assert.ok((await stat(path.join(dir, 'lib', lib))).size > 10e6, `${lib} is too small`);
    }
    for (const h of [
      'tensorflow/c/c_api.h',
      'tensorflow/c/eager/c_api.h',
      'tsl/platform/ctstring_internal.h',
    ])
      assert.ok(files.includes(path.join('include', h)), `no ${h}`);
    const other = files.filter(
      (f) => !f.startsWith('lib/') && !(f.startsWith('include/') && f.endsWith('.h')),
    );
    assert.deepEqual(other, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("without pip the wheel comes from the index's JSON API, and is checked against its pinned sha256", async () => {
  const bytes = Buffer.from('a stand-in for a wheel');
  const spec = {
    project: 'bgstudy-fake',
    version: '1.0',
    file: 'bgstudy_fake-1.0-cp311-cp311-manylinux2014_x86_64.whl',
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url!);
    if (req.url === `/pypi/${spec.project}/${spec.version}/json`) {
      const { port } = server.address() as AddressInfo;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          urls: [{ filename: spec.file, url: `http://127.0.0.1:${port}/files/${spec.file}` }],
        }),
      );
    } else if (req.url === `/files/${spec.file}`) res.end(bytes);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wheel-'));
  const index = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await withEnv({ BGSTUDY_PIP: 'none', BGSTUDY_PYPI_URL: index }, async () => {
      const got = await obtainWheel(spec, dir, () => undefined);
      assert.deepEqual(await readFile(got), bytes);
      assert.deepEqual(requests, [`/pypi/${spec.project}/${spec.version}/json`, `/files/${spec.file}`]);
      // Present and intact: not downloaded again.
      await obtainWheel(spec, dir, () => undefined);
      assert.equal(requests.length, 2);
      // A different pin for the same bytes: refused, and the file is gone.
      await assert.rejects(
        obtainWheel({ ...spec, sha256: '0'.repeat(64) }, dir, () => undefined),
        /is not the pinned/,
      );
      assert.equal(existsSync(got), false);
    });
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
