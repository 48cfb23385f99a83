import { parentPort } from 'node:worker_threads';
import { type GrabCutJob, grabCutMask, OpenCvTrapError } from './grabcut';

/** Worker-thread side of grabcut-pool.ts: one GrabCut job per message, OpenCV.js loaded once per thread. */
export interface GrabCutTask {
  id: number;
  job: GrabCutJob;
}

/** The answer to a task: the mask, or the error; `trapped`: WASM trapped, the pool replaces this thread. */
export interface GrabCutReply {
  id: number;
  mask?: Uint8Array;
  error?: string;
  trapped?: boolean;
}

parentPort?.on('message', (task: GrabCutTask) => {
  const reply = (r: GrabCutReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(r, transfer);
  grabCutMask(task.job).then(
    (mask) => reply({ id: task.id, mask }, [mask.buffer as ArrayBuffer]),
    (err: Error) =>
      reply({
        id: task.id,
        error: err.message,
        ...(err instanceof OpenCvTrapError ? { trapped: true } : {}),
      }),
  );
});
