import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../config/config';
import { S3ArtifactStore } from '../../store/s3-store';

test('an S3 endpoint with user:password@ in it is shown without them', async () => {
  const store = new S3ArtifactStore({ bucket: 'b', endpoint: 'http://AKIAEXAMPLE:sekret-123@127.0.0.1:9/' });
  assert.equal(store.location, 's3://b at http://127.0.0.1:9/');
  await store.close();
});

test('the configuration never holds an S3 secret or a Temporal API key', () => {
  const config = loadConfig({
    BGSTUDY_STORE: 's3',
    BGSTUDY_S3_BUCKET: 'b',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'planted-aws-secret',
    AWS_SESSION_TOKEN: 'planted-session-token',
    TEMPORAL_API_KEY: 'planted-temporal-key',
  });
  const text = JSON.stringify(config);
  for (const secret of ['planted-aws-secret', 'planted-session-token', 'planted-temporal-key'])
    assert.ok(!text.includes(secret), `${secret} is not in the config`);
  assert.equal(config.temporal.apiKeyEnv, 'TEMPORAL_API_KEY');
  assert.equal(config.temporal.tls, true);
});
