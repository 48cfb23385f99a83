import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { temporalConnectionOptions } from '../../client/connect';
import { loadConfig } from '../../config/config';

test('local dev server: plain connection', async () => {
  const config = loadConfig({ TEMPORAL_ADDRESS: 'localhost:7233' });
  assert.deepEqual(await temporalConnectionOptions(config.temporal, {}), { address: 'localhost:7233' });
});

test('mTLS reads the CA and client pair; the API key stays out of the config object', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tls-'));
  for (const f of ['ca.pem', 'client.pem', 'client.key'])
    await writeFile(path.join(dir, f), `-----${f}-----`);
  const env = {
    TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'ns.acct',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
    TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'),
    TEMPORAL_API_KEY: 'planted-api-key-secret',
  };
  const config = loadConfig(env);
  assert.equal(config.temporal.tls, true);
  assert.ok(!JSON.stringify(config).includes('planted-api-key-secret'), 'config can be printed safely');
  const options = await temporalConnectionOptions(config.temporal, env);
  assert.equal(options.apiKey, 'planted-api-key-secret');
  const tls = options.tls as { clientCertPair?: { crt: Buffer }; serverRootCACertificate?: Buffer };
  assert.equal(tls.clientCertPair?.crt.toString(), '-----client.pem-----');
  assert.equal(tls.serverRootCACertificate?.toString(), '-----ca.pem-----');
});

test('a missing certificate file is named; half a client pair is refused', async () => {
  const missing = loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' });
  await assert.rejects(
    temporalConnectionOptions(missing.temporal, {}),
    /server CA certificate at \/nonexistent\/ca\.pem: ENOENT/,
  );
  const half = loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x/client.pem' });
  await assert.rejects(temporalConnectionOptions(half.temporal, {}), /needs both/);
});
