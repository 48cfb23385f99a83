import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { FsArtifactStore, STALE_TMP_MS } from '../../store/fs-store';
import { tempDir } from '../helpers/env';

test(
  'temp files of a writer killed with SIGKILL are removed once stale; live ones are kept',
  { timeout: 60_000 },
  async () => {
    const root = await tempDir();
    const dir = path.join(root, 'runs', 'a');
    // a real writer, killed mid-write: it streams into the store and never finishes
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { FsArtifactStore } = require(${JSON.stringify(path.resolve(__dirname, '../../store/fs-store'))});
       const { Readable } = require('node:stream');
       const body = new Readable({ read() { this.push(Buffer.alloc(65536)); } });
       void new FsArtifactStore(${JSON.stringify(root)}).put('runs/a/big.bin', body);`,
      ],
      { stdio: 'ignore' },
    );
    let left: string[] = [];
    for (let i = 0; i < 200 && left.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.includes('.tmp-'));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(left.length, 1, 'the killed writer left its temp file');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'fresh.bin.tmp-1-abc'), 'a write in progress');
    const old = new Date(Date.now() - STALE_TMP_MS - 60_000);
    await utimes(path.join(dir, left[0]!), old, old);

    const store = new FsArtifactStore(root);
    assert.deepEqual(await store.list('runs/'), [], 'temp files are never listed');
    assert.deepEqual(
      (await readdir(dir)).sort(),
      ['fresh.bin.tmp-1-abc'],
      'the stale one is gone, the live one kept',
    );

    // a write into a folder sweeps it too
    await writeFile(path.join(dir, 'other.bin.tmp-2-def'), 'dead');
    await utimes(path.join(dir, 'other.bin.tmp-2-def'), old, old);
    await new FsArtifactStore(root).put('runs/a/x.json', '{}');
    assert.deepEqual((await readdir(dir)).sort(), ['fresh.bin.tmp-1-abc', 'x.json']);
  },
);
