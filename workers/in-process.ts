import type { NativeConnection } from '@temporalio/worker';
import { CPU_QUEUE, GPU_QUEUE } from '../common/queues';
import { createWorker, type WorkerOptions } from './create-worker';

export interface InProcessWorkers {
  /** Stops polling, lets running activities end within the grace time, and waits for both workers. */
  stop(): Promise<void>;
  /** Resolves when both workers have stopped (after stop(), or after a fatal worker error). */
  done: Promise<void>;
}

/**
 * The embedded mode: a CPU-queue and a GPU-queue worker in this process (`bgstudy run`, the history recorder,
 * the overhead benchmark, tests). Queue names default to the production ones.
 */
export async function startInProcessWorkers(
  options: Omit<WorkerOptions, 'kind' | 'taskQueue'> & {
    connection: NativeConnection;
    taskQueue?: string;
    gpuTaskQueue?: string;
  },
): Promise<InProcessWorkers> {
  const { taskQueue = CPU_QUEUE, gpuTaskQueue = GPU_QUEUE, ...common } = options;
  const workers = [
    await createWorker({ ...common, kind: 'cpu', taskQueue }),
    await createWorker({ ...common, kind: 'gpu', taskQueue: gpuTaskQueue }),
  ];
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  return {
    done,
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
