import { Client, Connection } from '@temporalio/client';
import type { BgConfig } from '../config/config';

/** A Temporal client for the configured cluster; close it with `client.connection.close()`. */
export async function connectClient(config: BgConfig['temporal']): Promise<Client> {
  const connection = await Connection.connect({ address: config.address });
  return new Client({ connection, namespace: config.namespace });
}
