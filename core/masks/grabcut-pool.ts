import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type GrabCutJob, grabCutMask } from './grabcut';
import type { GrabCutTask } from './grabcut-worker';

/** One job's outcome: the mask, or OpenCV's error (reported for that image, never fatal to the batch). */
export type GrabCutResult = { mask: Uint8Array; error?: undefined } | { mask?: undefined; error: string };

/**
 * Runs GrabCut jobs on `threads` worker threads (1: in this thread). GrabCut is single-threaded WASM, so threads
 * are how a dataset uses more than one core; each worker takes the next job when it is free. Results keep the
 * input order.
 */
export class GrabCutPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, (r: GrabCutResult) => void>();
  private nextId = 0;

  constructor(readonly threads: number) {
    // the sources are TypeScript run through tsx, in the parent and therefore in each worker
    const file = path.join(__dirname, 'grabcut-worker.ts');
    const code = `require('tsx/cjs'); require(${JSON.stringify(file)});`;
    for (let i = 0; i < (threads > 1 ? threads : 0); i++) {
      const w = new Worker(code, { eval: true });
      w.on('message', (m: { id: number; mask?: Uint8Array; error?: string }) => {
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        done?.(m.error !== undefined ? { error: m.error } : { mask: m.mask! });
      });
      w.on('error', (err) => {
        for (const done of this.pending.values()) done({ error: `worker failed: ${err.message}` });
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  async run(jobs: GrabCutJob[]): Promise<GrabCutResult[]> {
    const out = new Array<GrabCutResult>(jobs.length);
    if (this.workers.length === 0) {
      for (const [i, job] of jobs.entries())
        out[i] = await grabCutMask(job).then(
          (mask) => ({ mask }),
          (err: Error) => ({ error: err.message }),
        );
      return out;
    }
    let next = 0;
    const drive = async (w: Worker) => {
      while (next < jobs.length) {
        const i = next++;
        const job = jobs[i]!;
        const id = this.nextId++;
        // copy the pixels: posting a view into a larger buffer would clone all of it
        const task: GrabCutTask = { id, job: { ...job, rgb: job.rgb.slice() } };
        out[i] = await new Promise<GrabCutResult>((resolve) => {
          this.pending.set(id, resolve);
          w.postMessage(task, [task.job.rgb.buffer as ArrayBuffer]);
        });
      }
    };
    await Promise.all(this.workers.map(drive));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
