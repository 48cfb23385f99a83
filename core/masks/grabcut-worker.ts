import { parentPort } from 'node:worker_threads';
import { type GrabCutJob, grabCutMask } from './grabcut';

/** Worker-thread side of grabcut-pool.ts: one GrabCut job per message, OpenCV.js loaded once per thread. */
export interface GrabCutTask {
  id: number;
  job: GrabCutJob;
}

parentPort?.on('message', (task: GrabCutTask) => {
  grabCutMask(task.job).then(
    (mask) => parentPort!.postMessage({ id: task.id, mask }, [mask.buffer as ArrayBuffer]),
    (err: Error) => parentPort!.postMessage({ id: task.id, error: err.message }),
  );
});
