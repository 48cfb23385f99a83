import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { S3ArtifactStore } from '../../store/s3-store';
import { assertObjectName } from '../../core/data/safe-names';
import type { WorkerOptions } from '../../workers/create-worker';
import { startInProcessWorkers } from '../../workers/in-process';
import { installRuntime } from '../../workers/runtime';
import { testServices, uniqueId } from './env';

export interface TestStudyEnv {
  client: Client;
  /** The S3 store of the workers, under a prefix of its own. */
  store: S3ArtifactStore;
  /** Unique CPU queue (`startStudy`'s taskQueue); the GPU queue is `<taskQueue>-gpu`. */
  taskQueue: string;
  gpuTaskQueue: string;
  /** Stops the workers, closes the connections and the store. */
  stop(): Promise<void>;
}

/**
 * In-process CPU and GPU workers on unique task queues, against the Temporal server and S3 server that
 * test/run-tests.ts started, with a client: what an integration test of a whole study needs.
 */
export async function startTestStudyEnv(
  name: string,
  workerOptions: Pick<WorkerOptions, 'cacheDir' | 'reportRoot'> & { s3Sources?: boolean } = {},
): Promise<TestStudyEnv> {
  const services = testServices();
  installRuntime();
  const taskQueue = uniqueId(name);
  const gpuTaskQueue = `${taskQueue}-gpu`;
  const native = await NativeConnection.connect({ address: services.temporalAddress });
  const connection = await Connection.connect({ address: services.temporalAddress });
  const store = new S3ArtifactStore({ ...services.s3, prefix: uniqueId(name) });
  const { s3Sources, ...options } = workerOptions;
  const workers = await startInProcessWorkers({
    connection: native,
    store,
    taskQueue,
    gpuTaskQueue,
    ...options,
    ...(s3Sources
      ? {
          openS3: (bucket: string, prefix: string) =>
            new S3ArtifactStore({ ...services.s3, bucket, prefix, checkKey: assertObjectName }),
        }
      : {}),
  });
  return {
    client: new Client({ connection }),
    store,
    taskQueue,
    gpuTaskQueue,
    stop: async () => {
      await workers.stop();
      await connection.close();
      await native.close();
      await store.close();
    },
  };
}
