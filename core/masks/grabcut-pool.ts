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
  /** Per worker, the job it is running: answered by its message, or with an error if the worker dies. */
  private readonly current = new Map<Worker, (r: GrabCutResult) => void>();
  private readonly dead = new Set<Worker>();
  private nextId = 0;

  constructor(readonly threads: number) {
    // the sources are TypeScript run through tsx, in the parent and therefore in each worker
    const file = path.join(__dirname, 'grabcut-worker.ts');
    const code = `require('tsx/cjs'); require(${JSON.stringify(file)});`;
    for (let i = 0; i < (threads > 1 ? threads : 0); i++) {
      const w = new Worker(code, { eval: true });
      const finish = (r: GrabCutResult) => {
        const done = this.current.get(w);
        this.current.delete(w);
        done?.(r);
      };
      w.on('message', (m: { mask?: Uint8Array; error?: string }) =>
        finish(m.error !== undefined ? { error: m.error } : { mask: m.mask! }),
      );
      w.on('error', (err) => {
        this.dead.add(w);
        finish({ error: `GrabCut worker failed: ${err.message}` });
      });
      w.on('exit', () => {
        this.dead.add(w);
        finish({ error: 'GrabCut worker exited' });
      });
      this.workers.push(w);
    }
  }

  async run(jobs: GrabCutJob[]): Promise<GrabCutResult[]> {
    const out = new Array<GrabCutResult | undefined>(jobs.length);
    if (this.workers.length === 0) {
      for (const [i, job] of jobs.entries())
        out[i] = await grabCutMask(job).then(
          (mask) => ({ mask }),
          (err: Error) => ({ error: err.message }),
        );
      return out as GrabCutResult[];
    }
    let next = 0;
    const drive = async (w: Worker) => {
      while (next < jobs.length && !this.dead.has(w)) {
        const i = next++;
        const job = jobs[i]!;
        // copy the pixels: posting a view into a larger buffer would clone all of it
        const task: GrabCutTask = { id: this.nextId++, job: { ...job, rgb: job.rgb.slice() } };
        out[i] = await new Promise<GrabCutResult>((resolve) => {
          this.current.set(w, resolve);
          w.postMessage(task, [task.job.rgb.buffer as ArrayBuffer]);
        });
      }
    };
    await Promise.all(this.workers.map(drive));
    // jobs no live worker was left to take are reported, not dropped
    return out.map((r) => r ?? { error: 'no GrabCut worker left' });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
