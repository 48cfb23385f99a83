import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { ArtifactNotFoundError } from '../../common/errors';
import { mirrorS3Prefix } from '../../core/data/fetch-s3-prefix';
import type { ArtifactStore } from '../../store/artifact-store';
import { tempDir } from '../helpers/env';

/**
 * Objects as S3 holds them: any key, `a` and `a/b` side by side, 1024-byte keys. The test S3 server (versitygw on
 * a POSIX folder) cannot hold the names this test is about, so the listing is served from memory here; the real
 * server's part (names with spaces and accents) is test/integration/in9-from-s3.test.ts.
 */
function objects(map: Map<string, Buffer>, vanished: Set<string> = new Set()): ArtifactStore {
  const body = (key: string) => {
    const b = vanished.has(key) ? undefined : map.get(key);
    if (!b) throw new ArtifactNotFoundError(key);
    return b;
  };
  return {
    location: 'memory',
    put: async () => assert.fail('read only'),
    get: async (key) => body(key),
    getStream: async (key) => Readable.from([body(key)]),
    stat: async (key) =>
      vanished.has(key) || !map.has(key) ? undefined : { size: body(key).length, modified: new Date(0) },
    list: async () => [...map.keys()].sort(),
    delete: async () => assert.fail('read only'),
    close: async () => {},
  };
}

test('an s3:// mirror: one object that cannot be placed is refused by name, the rest is mirrored', async () => {
  const long = `cls/${'y'.repeat(300)}.png`;
  const map = new Map<string, Buffer>([
    ['02_wheeled vehicle/a b.png', Buffer.from('spaces')],
    ['04_café/ünï.png', Buffer.from('accents')],
    ['cls/twin.png', Buffer.from('file first')],
    ['cls/twin.png/inside.png', Buffer.from('then a folder of its name')],
    [long, Buffer.from('name too long for a file system')],
    ['cls/gone.png', Buffer.from('deleted after the listing')],
    ['cls/a\u0007bell.png', Buffer.from('control character')],
    ['cls//double.png', Buffer.from('empty segment')],
  ]);
  const cacheDir = await tempDir();
  const url = 's3://bucket/ds';
  const { dir, refused } = await mirrorS3Prefix(url, () => objects(map, new Set(['cls/gone.png'])), cacheDir);
  assert.equal(await readFile(path.join(dir, '02_wheeled vehicle', 'a b.png'), 'utf8'), 'spaces');
  assert.equal(await readFile(path.join(dir, '04_café', 'ünï.png'), 'utf8'), 'accents');
  assert.equal(await readFile(path.join(dir, 'cls', 'twin.png'), 'utf8'), 'file first');
  const reason = (start: string) =>
    refused.find((r) => r.file.startsWith(`${url}/${start}`))?.reason ?? 'none';
  assert.match(reason('cls/twin.png/inside.png'), /ENOTDIR|EEXIST/);
  assert.match(reason('cls/yyyyyyyy'), /name is longer than 255 bytes/);
  assert.match(reason('cls/gone.png'), /vanished/);
  assert.match(reason('cls/a\\x07bell.png'), /control characters/);
  assert.match(reason('cls//double.png'), /empty name/);
  assert.equal(refused.length, 5);
});

test('an s3:// mirror of many unusable names lists 100 and counts the rest', async () => {
  const map = new Map<string, Buffer>([['ok/x.png', Buffer.from('x')]]);
  for (let i = 0; i < 250; i++) map.set(`bad/${i}\u0001.png`, Buffer.from('x'));
  const { refused } = await mirrorS3Prefix('s3://b/p', () => objects(map), await tempDir());
  assert.equal(refused.length, 101);
  assert.match(refused[100]!.reason, /^150 more objects refused \(only the first 100 are listed\)/);
});
