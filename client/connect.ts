import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { readFile } from 'node:fs/promises';
import type { TemporalConfig } from '../config/config';

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(
      `cannot read the ${what} at ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Connection options for a Temporal cluster: plain for the local dev server; TLS with a CA, mTLS with a client
 * certificate, or an API key for Temporal Cloud and secured self-hosted clusters. Used by clients and workers.
 */
export async function temporalConnectionOptions(
  config: TemporalConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ address: string; tls?: ConnectionOptions['tls']; apiKey?: string }> {
  if (!config.tls) return { address: config.address };
  if (Boolean(config.clientCertPath) !== Boolean(config.clientKeyPath)) {
    throw new Error('mTLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
  }
  const tls: NonNullable<ConnectionOptions['tls']> = {};
  if (config.serverName) tls.serverNameOverride = config.serverName;
  if (config.serverCaCertPath)
    tls.serverRootCACertificate = await readPem(config.serverCaCertPath, 'server CA certificate');
  if (config.clientCertPath && config.clientKeyPath) {
    tls.clientCertPair = {
      crt: await readPem(config.clientCertPath, 'client certificate'),
      key: await readPem(config.clientKeyPath, 'client key'),
    };
  }
  const apiKey = config.apiKeyEnv ? env[config.apiKeyEnv] : undefined;
  return { address: config.address, tls, ...(apiKey ? { apiKey } : {}) };
}

/** A Temporal client for the configured cluster; close it with `client.connection.close()`. */
export async function connectClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect(await temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.namespace });
}
