/**
 * The best StepTrainer for this machine: the backend initBackend picks (or the one asked for); libtorch (a
 * CUDA device, or the CPU when asked) trains in the addon (core/backend/torch-trainer.ts); on the
 * CPU backends (wasm, cpu), data-parallel over worker threads when more than one worker is allowed; on
 * tfjs-node(-gpu) and webgpu, in this process (those already use every core or the GPU).
 */
import { InProcessTrainer } from '../ml/in-process-trainer';
import type { ModelSpec } from '../ml/model-spec';
import type { OptimizerSpec, StepTrainer } from '../ml/trainer';
import { defaultWorkers, ParallelTrainer } from './parallel-trainer';
import { initBackend } from './select-backend';
import { TorchTrainer } from './torch-trainer';
import type { BackendInfo, BackendName } from './select-backend';

export interface CreateTrainerOptions {
  modelSpec: ModelSpec;
  optimizer: OptimizerSpec;
  /** Default: BGSTUDY_BACKEND, else 'auto'. */
  backend?: BackendName | 'auto';
  /** Worker threads for wasm/cpu (default: BGSTUDY_WORKERS, else every core). */
  workers?: number;
  log?: (line: string) => void;
}

export interface CreatedTrainer {
  trainer: StepTrainer;
  /** The backend of this process; store it (with trainer.backend) with every result. */
  backend: BackendInfo;
  workers: number;
}

export async function createTrainer(options: CreateTrainerOptions): Promise<CreatedTrainer> {
  const backend = await initBackend({ backend: options.backend, log: options.log });
  const workers = defaultWorkers(options.workers);
  if (backend.name === 'libtorch') {
    const trainer = new TorchTrainer(options.modelSpec, options.optimizer, { threads: workers });
    options.log?.(`trainer: ${trainer.backend}`);
    return { trainer, backend, workers: 1 };
  }
  if ((backend.name === 'wasm' || backend.name === 'cpu') && workers > 1) {
    const trainer = await ParallelTrainer.create({ ...options, backend: backend.name, workers });
    options.log?.(`trainer: data-parallel over ${workers} worker threads on ${backend.name}`);
    return { trainer, backend, workers };
  }
  return { trainer: new InProcessTrainer(options.modelSpec, options.optimizer), backend, workers: 1 };
}
