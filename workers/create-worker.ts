import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { CPU_QUEUE, GPU_QUEUE } from '../common/queues';
import type { ArtifactStore } from '../store';
import { attemptGuardInterceptor } from '../activities/attempt-guard';
import { cpuActivities, gpuActivities } from './activities';

export type QueueKind = 'cpu' | 'gpu';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles workflows/ once per process (webpack, a few seconds); every worker of the process shares it. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: {
      trace: () => {},
      debug: () => {},
      info: () => {},
      warn: console.warn,
      error: console.error,
      log: () => {},
    },
  });
  return bundle;
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  store: ArtifactStore;
  /** Local folder for report files (embedded mode). */
  reportRoot?: string;
  cacheDir?: string;
  openS3?: (bucket: string, prefix: string) => ArtifactStore;
  kind: QueueKind;
  /** Override the queue name (tests use unique queues). */
  taskQueue?: string;
  /**
   * Activities run at once on this worker (env BGSTUDY_CPU_ACTIVITIES / BGSTUDY_GPU_ACTIVITIES); training is
   * memory-heavy and already uses every core, so the GPU queue defaults to 1.
   */
  maxConcurrentActivities?: number;
}

/** A worker for one task queue. CPU workers also run workflows; GPU workers only run activities. */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const isCpu = options.kind === 'cpu';
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? (isCpu ? CPU_QUEUE : GPU_QUEUE),
    ...(isCpu ? { workflowBundle: await workflowBundle() } : {}),
    activities: isCpu ? cpuActivities(options) : gpuActivities(options),
    // Every attempt with a heartbeat timeout stops by itself once cut off from Temporal for longer than it.
    interceptors: { activity: [attemptGuardInterceptor] },
    maxConcurrentActivityTaskExecutions:
      options.maxConcurrentActivities ??
      Number(process.env[isCpu ? 'BGSTUDY_CPU_ACTIVITIES' : 'BGSTUDY_GPU_ACTIVITIES'] ?? (isCpu ? 2 : 1)),
    shutdownGraceTime: '10s',
    // Heartbeats reach the server every 5 s at most (default up to 60 s): `bgstudy status` and the live view
    // read a run's epoch/batch/loss from them.
    maxHeartbeatThrottleInterval: '5s',
    defaultHeartbeatThrottleInterval: '5s',
  });
}
