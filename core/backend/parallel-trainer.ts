/**
 * Data-parallel training over worker threads (issue 6): each worker has its own tfjs and backend (wasm by
 * default, one core each) and a copy of the model built from the same ModelSpec. Each step, worker i
 * computes the gradient of its rows' share of the global mean loss; the gradients meet in a
 * SharedArrayBuffer, every worker sums them in the same order and applies the same optimizer step, so the
 * copies stay identical and the result equals single-process training on the global batch up to float
 * rounding. BatchNorm normalizes with each worker's own rows (as PyTorch's DataParallel does); the moving
 * statistics are averaged across workers after each step, weighted by rows.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../ml/model-spec';
import type { Batch, OptimizerSpec, StepResult, StepTrainer, TrainerState } from '../ml/trainer';
import type { FromWorker, SharedBuffers, ToWorker, WorkerInit } from './parallel-protocol';
import type { BackendName } from './select-backend';
import { engineSettings } from './engine-settings';

export interface ParallelTrainerOptions {
  modelSpec: ModelSpec;
  optimizer: OptimizerSpec;
  /** Backend of every worker (default 'wasm'). */
  backend?: BackendName;
  /** Worker threads (default: BGSTUDY_WORKERS, else every core). */
  workers?: number;
}

/** Workers to use: the option, else BGSTUDY_WORKERS, else the number of cores. */
export function defaultWorkers(requested?: number): number {
  const fromSettings = engineSettings().workers;
  const n = requested ?? (fromSettings ? Number(fromSettings) : os.availableParallelism());
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`workers must be a positive integer (BGSTUDY_WORKERS or --workers), got ${n}`);
  return n;
}

/** Splits n rows into `parts` contiguous ranges whose sizes differ by at most one. */
export function splitRows(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) out.push([Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
  return out;
}

class WorkerHandle {
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(readonly worker: Worker) {
    worker.on('message', (m: FromWorker) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (!w) return;
      if (m.type === 'error')
        w.reject(Object.assign(new Error(`training worker: ${m.message}`), { stack: m.stack }));
      else w.resolve(m);
    });
    const fail = (err: Error) => {
      this.failure = err;
      this.waiting?.reject(err);
      this.waiting = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`training worker exited (code ${code})`)));
  }

  /** The worker's next message (the first, 'ready', is awaited with a null message). */
  request(message: ToWorker | null): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      if (message) this.worker.postMessage(message);
    });
  }
}

export class ParallelTrainer implements StepTrainer {
  private buffers: SharedBuffers | undefined;
  private capacity = 0;
  /** Serializes calls: each worker handles one request at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly modelSpec: ModelSpec,
    readonly backend: string,
    private readonly handles: WorkerHandle[],
    private readonly parameterCount: number,
    private readonly statCount: number,
  ) {}

  /** Starts the workers and waits until each has built its model. */
  static async create(options: ParallelTrainerOptions): Promise<ParallelTrainer> {
    const workers = defaultWorkers(options.workers);
    const backend = options.backend ?? 'wasm';
    const handles = Array.from({ length: workers }, (_, index) => {
      const init: WorkerInit = {
        index,
        workers,
        modelSpec: options.modelSpec,
        optimizer: options.optimizer,
        backend,
        engine: engineSettings(),
      };
      return new WorkerHandle(new Worker(path.join(__dirname, 'parallel-worker.cjs'), { workerData: init }));
    });
    let ready: FromWorker[];
    try {
      ready = await Promise.all(handles.map((h) => h.request(null)));
    } catch (err) {
      await Promise.all(handles.map((h) => h.worker.terminate()));
      throw err;
    }
    const first = ready[0] as Extract<FromWorker, { type: 'ready' }>;
    const label = `${first.backend.split(' ')[0]} (${workers} worker${workers > 1 ? 's' : ''})`;
    return new ParallelTrainer(options.modelSpec, label, handles, first.parameterCount, first.statCount);
  }

  get workers(): number {
    return this.handles.length;
  }

  private serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private all(message: ToWorker | ((i: number) => ToWorker)): Promise<FromWorker[]> {
    return Promise.all(
      this.handles.map((h, i) => h.request(typeof message === 'function' ? message(i) : message)),
    );
  }

  /** Makes the shared buffers hold a batch of n images. */
  private async reserve(n: number): Promise<SharedBuffers> {
    if (this.buffers && n <= this.capacity) return this.buffers;
    const s = this.modelSpec.inputSize;
    const capacity = Math.max(n, this.capacity);
    const w = this.handles.length;
    this.buffers = {
      x: new SharedArrayBuffer(capacity * s * s * 3 * 4),
      y: new SharedArrayBuffer(capacity * 4),
      grads: this.buffers?.grads ?? new SharedArrayBuffer(w * this.parameterCount * 4),
      stats: this.buffers?.stats ?? new SharedArrayBuffer(Math.max(1, w * this.statCount) * 4),
      logits: new SharedArrayBuffer(capacity * this.modelSpec.numClasses * 4),
    };
    this.capacity = capacity;
    await this.all({ type: 'buffers', buffers: this.buffers });
    return this.buffers;
  }

  private checkPixels(x: Float32Array, n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`batch must hold at least one image, got n=${n}`);
    const s = this.modelSpec.inputSize;
    if (x.length !== n * s * s * 3)
      throw new Error(`batch of ${n} needs ${n * s * s * 3} pixel values at ${s}px, got ${x.length}`);
  }

  trainStep(batch: Batch): Promise<StepResult> {
    return this.serialized(async () => {
      this.checkPixels(batch.x, batch.n);
      const b = await this.reserve(batch.n);
      new Float32Array(b.x).set(batch.x);
      new Int32Array(b.y).set(batch.y.subarray(0, batch.n));
      const slices = splitRows(batch.n, this.handles.length);
      const results = (await this.all((i) => ({
        type: 'grads',
        lo: slices[i]![0],
        hi: slices[i]![1],
        n: batch.n,
      }))) as Extract<FromWorker, { type: 'grads' }>[];
      await this.all({ type: 'apply', rowsPerWorker: slices.map(([lo, hi]) => hi - lo) });
      const lossSum = results.reduce((a, r) => a + r.lossSum, 0);
      return { loss: lossSum / batch.n, correct: results.reduce((a, r) => a + r.correct, 0) };
    });
  }

  predict(x: Float32Array, n: number): Promise<Float32Array> {
    return this.serialized(async () => {
      this.checkPixels(x, n);
      const b = await this.reserve(n);
      new Float32Array(b.x).set(x);
      const slices = splitRows(n, this.handles.length);
      await this.all((i) => ({ type: 'predict', lo: slices[i]![0], hi: slices[i]![1] }));
      return new Float32Array(b.logits, 0, n * this.modelSpec.numClasses).slice();
    });
  }

  /** The state of worker 0 (all workers hold the same). */
  getState(): Promise<TrainerState> {
    return this.serialized(
      async () =>
        ((await this.handles[0]!.request({ type: 'getState' })) as Extract<FromWorker, { type: 'state' }>)
          .state,
    );
  }

  /** Every worker's state: for checking that the copies stay identical. */
  getWorkerStates(): Promise<TrainerState[]> {
    return this.serialized(async () =>
      ((await this.all({ type: 'getState' })) as Extract<FromWorker, { type: 'state' }>[]).map(
        (m) => m.state,
      ),
    );
  }

  setState(state: TrainerState): Promise<void> {
    return this.serialized(async () => {
      await this.all({ type: 'setState', state });
    });
  }

  dispose(): Promise<void> {
    return this.serialized(async () => {
      await this.all({ type: 'dispose' }).catch(() => undefined);
      await Promise.all(this.handles.map((h) => h.worker.terminate()));
    });
  }
}
