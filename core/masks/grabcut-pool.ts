import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { GRABCUT_MAX_PIXELS, type GrabCutJob, grabCutMask } from './grabcut';
import type { GrabCutReply, GrabCutTask } from './grabcut-worker';

/** One job's outcome: the mask, or OpenCV's error (reported for that image, never fatal to the batch). */
export type GrabCutResult = { mask: Uint8Array; error?: undefined } | { mask?: undefined; error: string };

export interface GrabCutPoolOptions {
  /**
   * The module each worker thread loads (default grabcut-worker.ts next to this file). Tests substitute one that
   * dies on cue, to check that a dead thread costs only its own job.
   */
  workerFile?: string;
  /** Larger images get an error instead of a run (default GRABCUT_MAX_PIXELS). */
  maxPixels?: number;
  /**
   * A job running longer on a worker thread is stopped (the thread is replaced) and reported (default 15 min: a
   * backstop against a hang, far above GrabCut's time on a GRABCUT_MAX_PIXELS image). Not enforceable in-thread.
   */
  jobTimeoutMs?: number;
}

export const DEFAULT_JOB_TIMEOUT_MS = 15 * 60_000;

/** A worker thread and the job it is running (answered by its message, or with an error if it dies). */
interface Slot {
  worker: Worker;
  pending?: (r: GrabCutResult) => void;
  dead: boolean;
}

/**
 * Runs GrabCut jobs on `threads` worker threads (1: in this thread). GrabCut is single-threaded WASM, so threads
 * are how a dataset uses more than one core; each worker takes the next job when it is free. Results keep the
 * input order. A worker that dies (an uncaught error, an exit) or whose OpenCV.js runtime traps (WASM out of
 * bounds or aborting, which leaves it broken) fails only the job it was running, which is reported for its
 * image; a fresh thread takes its place for the rest.
 */
export class GrabCutPool {
  private readonly slots: Slot[] = [];
  private readonly code: string;
  private readonly maxPixels: number;
  private readonly jobTimeoutMs: number;
  private closed = false;
  private nextId = 0;
  /** Threads started to replace dead ones (over the pool's life). */
  replaced = 0;

  constructor(
    readonly threads: number,
    options: GrabCutPoolOptions = {},
  ) {
    // the sources are TypeScript run through tsx, in the parent and therefore in each worker
    const file = options.workerFile ?? path.join(__dirname, 'grabcut-worker.ts');
    this.code = `require('tsx/cjs'); require(${JSON.stringify(file)});`;
    this.maxPixels = options.maxPixels ?? GRABCUT_MAX_PIXELS;
    this.jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    for (let i = 0; i < (threads > 1 ? threads : 0); i++) this.slots.push(this.start());
  }

  private start(): Slot {
    const slot: Slot = { worker: new Worker(this.code, { eval: true }), dead: false };
    const finish = (r: GrabCutResult) => {
      const done = slot.pending;
      slot.pending = undefined;
      done?.(r);
    };
    slot.worker.on('message', (m: GrabCutReply) => {
      // a thread whose WASM runtime trapped holds a broken runtime (and its memory): it is replaced
      if (m.trapped) {
        slot.dead = true;
        void slot.worker.terminate();
      }
      finish(m.error !== undefined ? { error: m.error } : { mask: m.mask! });
    });
    // an uncaught error is followed by an exit: the first of the two answers the job
    slot.worker.on('error', (err) => {
      slot.dead = true;
      finish({ error: `GrabCut worker thread failed on this image (${err.message}); thread replaced` });
    });
    slot.worker.on('exit', (code) => {
      slot.dead = true;
      finish({ error: `GrabCut worker thread exited (code ${code}) while on this image; thread replaced` });
    });
    return slot;
  }

  async run(jobs: GrabCutJob[]): Promise<GrabCutResult[]> {
    const out = new Array<GrabCutResult | undefined>(jobs.length);
    const todo: number[] = [];
    for (const [i, { width: w, height: h }] of jobs.entries())
      if (w * h <= this.maxPixels) todo.push(i);
      else
        out[i] = {
          error: `image is ${w}x${h} = ${w * h} pixels, more than GrabCut takes (${this.maxPixels}: OpenCV.js runs out of WASM memory above about 5,000,000); set the dataset's size to resize first`,
        };
    if (this.slots.length === 0) {
      for (const i of todo)
        out[i] = await grabCutMask(jobs[i]!).then(
          (mask) => ({ mask }),
          (err: Error) => ({ error: err.message }),
        );
      return out as GrabCutResult[];
    }
    let next = 0;
    // every death costs a job or happens between jobs; this bound only stops threads that die as they start
    let restarts = todo.length + this.slots.length;
    const drive = async (k: number) => {
      while (next < todo.length && !this.closed) {
        if (this.slots[k]!.dead) {
          if (restarts-- <= 0) return;
          this.slots[k] = this.start();
          this.replaced++;
        }
        const slot = this.slots[k]!;
        const i = todo[next++]!;
        const job = jobs[i]!;
        // copy the pixels: posting a view into a larger buffer would clone all of it
        const task: GrabCutTask = { id: this.nextId++, job: { ...job, rgb: job.rgb.slice() } };
        out[i] = await new Promise<GrabCutResult>((resolve) => {
          const timer = setTimeout(() => {
            slot.pending = undefined;
            slot.dead = true;
            void slot.worker.terminate();
            resolve({
              error: `GrabCut ran more than ${this.jobTimeoutMs / 1000} s on this ${job.width}x${job.height} image; stopped, thread replaced`,
            });
          }, this.jobTimeoutMs);
          slot.pending = (r) => {
            clearTimeout(timer);
            resolve(r);
          };
          if (slot.dead) slot.pending({ error: 'GrabCut worker thread died before taking this image' });
          else slot.worker.postMessage(task, [task.job.rgb.buffer as ArrayBuffer]);
        });
      }
    };
    await Promise.all(this.slots.map((_, k) => drive(k)));
    // jobs no live worker was left to take are reported, not dropped (Array.from: map would skip the holes)
    return Array.from(out, (r) => r ?? { error: 'no GrabCut worker thread left' });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
