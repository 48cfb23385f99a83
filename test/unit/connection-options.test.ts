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
  assert.throws(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x/client.pem' }), /needs both/);
});

test('partial TLS settings never leave the connection in plaintext: refused by name, or TLS on', async () => {
  // half a client pair, or a server name with TLS off: refused, naming the variables
  assert.throws(
    () => loadConfig({ TEMPORAL_TLS_CLIENT_KEY_PATH: '/x/client.key' }),
    /needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH; only the key is set/,
  );
  assert.throws(
    () => loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }),
    /TEMPORAL_TLS_SERVER_NAME is set but TLS is off/,
  );
  assert.throws(() => loadConfig({ TEMPORAL_TLS: 'maybe' }), /TEMPORAL_TLS must be true or false/);
  assert.throws(
    () => loadConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }),
    /TEMPORAL_TLS=false turns TLS off, but TEMPORAL_API_KEY need TLS/,
  );
  // TEMPORAL_TLS=1 (like true) is server-only TLS with the system CAs, with or without a server name
  for (const on of ['1', 'true', 'TRUE', 'yes']) {
    const config = loadConfig({ TEMPORAL_TLS: on, TEMPORAL_ADDRESS: 'h:7233' });
    assert.equal(config.temporal.tls, true, on);
    assert.deepEqual(await temporalConnectionOptions(config.temporal, {}), { address: 'h:7233', tls: {} });
  }
  const named = loadConfig({ TEMPORAL_TLS: '1', TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
  const options = await temporalConnectionOptions(named.temporal, {});
  assert.equal((options.tls as { serverNameOverride?: string }).serverNameOverride, 'temporal.internal');
  for (const off of ['0', 'false', ''])
    assert.equal(loadConfig({ TEMPORAL_TLS: off }).temporal.tls, false, off);
});
