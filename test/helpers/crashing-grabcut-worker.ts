import { parentPort } from 'node:worker_threads';
import type { GrabCutTask } from '../../core/masks/grabcut-worker';

/**
 * A GrabCut worker thread that dies on cue (for GrabCutPool's fault tests): a job of width 7 makes the thread
 * exit, one of width 9 throws an uncaught error in it, one of width 11 never ends; every other job goes to the real worker, loaded after this
 * listener so that this one sees each message first.
 */
export const EXIT_WIDTH = 7;
export const THROW_WIDTH = 9;
export const HANG_WIDTH = 11;

parentPort?.on('message', (task: GrabCutTask) => {
  if (task.job.width === EXIT_WIDTH) process.exit(3);
  if (task.job.width === THROW_WIDTH) throw new Error('injected fault in the GrabCut worker');
  if (task.job.width === HANG_WIDTH) for (;;);
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../core/masks/grabcut-worker');
