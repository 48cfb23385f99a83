import assert from 'node:assert/strict';
import { describe, test, after } from 'node:test';
import { ArtifactNotFoundError } from '../../common/errors';
import type { ArtifactStore } from '../../store';
import { FsArtifactStore } from '../../store/fs-store';
import { S3ArtifactStore } from '../../store/s3-store';
import { tempDir, testServices, uniqueId } from '../helpers/env';
import { patternStream, sha256OfStream } from '../helpers/streams';

const MB = 1024 * 1024;

/** The ArtifactStore contract, run against the local folder store and the real S3 server alike. */
function contract(name: string, make: () => Promise<ArtifactStore>): void {
  describe(`${name} store`, () => {
    let store: ArtifactStore;
    after(async () => store?.close());

    test('round trip, stat, list by prefix', async () => {
      store = await make();
      await store.put('a/one.json', '{"x":1}');
      await store.put('a/two.bin', Buffer.from([1, 2, 3]));
      await store.put('b/three.txt', 'three');
      assert.equal((await store.get('a/one.json')).toString(), '{"x":1}');
      assert.deepEqual([...(await store.get('a/two.bin'))], [1, 2, 3]);
      assert.equal((await store.stat('a/two.bin'))?.size, 3);
      assert.deepEqual(await store.list('a/'), ['a/one.json', 'a/two.bin']);
      assert.deepEqual(await store.list(''), ['a/one.json', 'a/two.bin', 'b/three.txt']);
      assert.deepEqual(await store.list('a/t'), ['a/two.bin']);
    });

    test('a missing key is reported as such', async () => {
      assert.equal(await store.stat('nope/missing.json'), undefined);
      await assert.rejects(store.get('nope/missing.json'), ArtifactNotFoundError);
      await assert.rejects(store.getStream('nope/missing.json'), ArtifactNotFoundError);
      assert.deepEqual(await store.list('nope/'), []);
    });

    test('keys that could escape their prefix are refused', async () => {
      for (const bad of ['../x', '/abs', 'a//b', 'a/../b', '', 'a/.hidden']) {
        await assert.rejects(store.put(bad, 'x'), /invalid artifact key/, bad);
      }
    });

    test('many small objects', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => `many/${String(i).padStart(4, '0')}.json`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k, j) => store.put(k, JSON.stringify({ i: i + j }))));
      }
      assert.deepEqual(await store.list('many/'), keys);
      assert.equal((JSON.parse((await store.get('many/0123.json')).toString()) as { i: number }).i, 123);
    });

    test('concurrent writers of one key leave one body whole', async () => {
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(2 * MB, i + 1));
      await Promise.all(bodies.map((b) => store.put('race/key.bin', b)));
      const got = await store.get('race/key.bin');
      assert.equal(got.length, 2 * MB);
      assert.ok(
        bodies.some((b) => b.equals(got)),
        'the stored object is exactly one of the written bodies',
      );
      assert.deepEqual(await store.list('race/'), ['race/key.bin'], 'no temp files are visible');
    });

    test('a 100 MiB object streams in and out (multipart on S3)', async () => {
      const size = 100 * MB;
      const expected = await sha256OfStream(patternStream(size, 7));
      await store.put('large/100mib.bin', patternStream(size, 7));
      assert.equal((await store.stat('large/100mib.bin'))?.size, size);
      const got = await sha256OfStream(await store.getStream('large/100mib.bin'));
      assert.deepEqual(got, expected);
    });
  });
}

contract('local folder', async () => new FsArtifactStore(await tempDir('fs-store-')));

contract('S3 (versitygw)', async () => {
  const { s3 } = testServices();
  return new S3ArtifactStore({ ...s3, prefix: uniqueId('contract') });
});
