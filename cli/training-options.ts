import { type Command, Option } from 'commander';
import { configureEngine, engineSettings } from '../core/backend/engine-settings';
import { defaultWorkers } from '../core/backend/parallel-trainer';
import { BACKEND_NAMES } from '../core/backend/select-backend';

/**
 * --backend and --workers for the commands that train (`run`, `worker`): the same settings as BGSTUDY_BACKEND
 * and BGSTUDY_WORKERS, which they set, so every trainer this process creates sees them.
 */
export function addTrainingOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--backend <name>', 'training backend (default: BGSTUDY_BACKEND, else auto)').choices([
        'auto',
        ...BACKEND_NAMES,
      ]),
    )
    .option(
      '--workers <n>',
      'worker threads for data-parallel training on wasm/cpu (default: BGSTUDY_WORKERS, else every core)',
    );
}

export function applyTrainingOptions(opts: { backend?: string; workers?: string }): void {
  if (opts.workers !== undefined) defaultWorkers(Number(opts.workers)); // throws, naming --workers
  if (opts.backend) process.env.BGSTUDY_BACKEND = opts.backend;
  if (opts.workers !== undefined) process.env.BGSTUDY_WORKERS = opts.workers;
  // This process's trainers; the environment above carries them to the worker processes it starts.
  configureEngine({
    ...engineSettings(),
    ...(opts.backend ? { backend: opts.backend } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  });
}
