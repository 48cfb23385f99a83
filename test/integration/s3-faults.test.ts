import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreAuthError } from '../../common/errors';
import { startLocalS3, type LocalS3Server } from '../../infra/s3-server';
import { S3ArtifactStore } from '../../store/s3-store';
import { tempDir, testOutputDir, uniqueId } from '../helpers/env';
import { patternStream, sha256OfStream } from '../helpers/streams';

/** Faults against a versitygw of this test's own, so that stopping it disturbs no other test. */
describe('S3 store under faults', () => {
  let server: LocalS3Server;
  before(async () => {
    server = await startLocalS3({
      dataDir: await tempDir('s3-faults-'),
      logDir: path.join(testOutputDir(), 'logs'),
    });
  });
  after(async () => server?.stop());

  const storeFor = (
    s: LocalS3Server,
    extra: Partial<ConstructorParameters<typeof S3ArtifactStore>[0]> = {},
  ) =>
    new S3ArtifactStore({
      bucket: s.bucket,
      endpoint: s.endpoint,
      credentials: s.credentials,
      prefix: uniqueId('faults'),
      ...extra,
    });

  test('a wrong credential fails with a clear error that does not contain the secret', async () => {
    const secret = 'planted-secret-value-123';
    const store = storeFor(server, { credentials: { accessKeyId: 'nobody', secretAccessKey: secret } });
    try {
      const err = await store.put('x/y.json', '{}').then(
        () => assert.fail('put with a wrong credential succeeded'),
        (e: unknown) => e as Error,
      );
      assert.ok(err instanceof StoreAuthError, `expected StoreAuthError, got ${err.name}: ${err.message}`);
      assert.match(err.message, /refused the credentials/);
      assert.ok(!err.message.includes(secret) && !String(err.stack).includes(secret));
    } finally {
      await store.close();
    }
  });

  test('a server that is down, then comes back: writes retry with backoff and land whole', async () => {
    const store = storeFor(server, { retry: { attempts: 12, baseDelayMs: 200, maxDelayMs: 2_000 } });
    try {
      await store.put('warm/up.txt', 'ok'); // bucket checked while the server is up
      await server.stop();
      const retries: number[] = [];
      const body = Buffer.alloc(3 * 1024 * 1024, 9);
      const storeWithLog = storeFor(server, {
        prefix: undefined,
        retry: {
          attempts: 12,
          baseDelayMs: 200,
          maxDelayMs: 2_000,
          onRetry: (_e, attempt) => retries.push(attempt),
        },
      });
      const pending = storeWithLog.put('during/outage.bin', body);
      await sleep(2_500);
      await server.restart();
      await pending;
      assert.ok(retries.length >= 2, `expected retries during the outage, saw ${retries.length}`);
      assert.ok((await storeWithLog.get('during/outage.bin')).equals(body));
      await storeWithLog.close();
    } finally {
      await store.close();
    }
  });

  test('a server killed during a multipart upload leaves no partial object', async () => {
    const store = storeFor(server, { partSize: 5 * 1024 * 1024 });
    try {
      await store.put('warm/up.txt', 'ok');
      const size = 60 * 1024 * 1024;
      const upload = store.put('killed/big.bin', patternStream(size, 3)).then(
        () => 'completed' as const,
        () => 'failed' as const,
      );
      await sleep(150);
      await server.process.kill();
      const outcome = await upload;
      await server.restart();
      const info = await store.stat('killed/big.bin');
      if (outcome === 'failed') {
        assert.equal(info, undefined, 'a failed upload must leave no object behind');
      } else {
        // The upload won the race: then the object must be whole.
        const got = await sha256OfStream(await store.getStream('killed/big.bin'));
        assert.deepEqual(got, await sha256OfStream(patternStream(size, 3)));
      }
      assert.deepEqual(await store.list('killed/'), outcome === 'failed' ? [] : ['killed/big.bin']);
    } finally {
      await store.close();
    }
  });
});
