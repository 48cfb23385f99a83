import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import path from 'node:path';
import { startTemporalDevServer } from '../infra/temporal-server';
import { FsArtifactStore } from '../store/fs-store';
import { startInProcessWorkers } from './in-process';

export interface ScratchEnv {
  /** The dev server's address (for the `temporal` CLI). */
  address: string;
  client: Client;
  store: FsArtifactStore;
  /** Stops the workers, closes both connections and stops the server. */
  stop(): Promise<void>;
}

/**
 * A throwaway study environment in `root`: a headless Temporal dev server (SQLite file there), a local-folder
 * store and in-process workers on `<taskQueue>` and `<taskQueue>-gpu`. For the history recorder and the
 * overhead benchmark, which need a study run end to end and nothing left behind.
 */
export async function startScratchEnv(root: string, taskQueue: string): Promise<ScratchEnv> {
  const server = await startTemporalDevServer({
    dbFile: path.join(root, 'temporal.db'),
    logDir: root,
    headless: true,
  });
  const store = new FsArtifactStore(path.join(root, 'store'));
  const native = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const workers = await startInProcessWorkers({
    connection: native,
    store,
    taskQueue,
    gpuTaskQueue: `${taskQueue}-gpu`,
  });
  return {
    address: server.address,
    client: new Client({ connection }),
    store,
    stop: async () => {
      await workers.stop();
      await connection.close();
      await native.close();
      await server.stop();
    },
  };
}
