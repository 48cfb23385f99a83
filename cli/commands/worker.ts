import { NativeConnection } from '@temporalio/worker';
import type { Command } from 'commander';
import path from 'node:path';
import { temporalConnectionOptions } from '../../client/connect';
import { CPU_QUEUE, GPU_QUEUE } from '../../common/queues';
import { loadConfig } from '../../config/config';
import { createStore } from '../../store';
import { s3PrefixOpener } from '../../store/s3-prefix-opener';
import { createWorker, type QueueKind } from '../../workers/create-worker';
import { installRuntime } from '../../workers/runtime';
import { addTrainingOptions, applyTrainingOptions } from '../training-options';

const KINDS: Record<string, QueueKind> = { cpu: 'cpu', [CPU_QUEUE]: 'cpu', gpu: 'gpu', [GPU_QUEUE]: 'gpu' };

export function registerWorker(program: Command): void {
  addTrainingOptions(program.command('worker'))
    .description(
      `run a worker for one task queue against TEMPORAL_ADDRESS (${CPU_QUEUE}: workflows, data and variants; ` +
        `${GPU_QUEUE}: training and evaluation); run more of them on more machines to scale out`,
    )
    // One image for every worker: the queue may come from the environment (docker-compose.yml, README).
    .option(
      '--queue <name>',
      `cpu | gpu | ${CPU_QUEUE} | ${GPU_QUEUE} (default: $BGSTUDY_QUEUE, else cpu)`,
      process.env.BGSTUDY_QUEUE ?? 'cpu',
    )
    .option('--task-queue <name>', 'override the task queue name')
    .action(async (opts: { queue: string; taskQueue?: string; backend?: string; workers?: string }) => {
      const kind = KINDS[opts.queue];
      if (!kind) throw new Error(`unknown --queue "${opts.queue}" (use cpu or gpu)`);
      applyTrainingOptions(opts);
      installRuntime('INFO');
      const config = loadConfig();
      const store = createStore(config.store);
      const connection = await NativeConnection.connect(await temporalConnectionOptions(config.temporal));
      const worker = await createWorker({
        connection,
        namespace: config.temporal.namespace,
        store,
        kind,
        taskQueue: opts.taskQueue,
        cacheDir: path.join(config.homeDir, 'cache'),
        // The report's local copy (.bgstudy/reports/<name>-<hash>/), as with `bgstudy run`, on the CPU worker's machine.
        reportRoot: path.join(config.homeDir, 'reports'),
        openS3: s3PrefixOpener(config.store),
      });
      console.error(
        `bgstudy worker: queue ${opts.taskQueue ?? (kind === 'cpu' ? CPU_QUEUE : GPU_QUEUE)}, ` +
          `Temporal ${config.temporal.address}/${config.temporal.namespace}, store ${store.location}`,
      );
      // Worker.run() handles SIGINT/SIGTERM (and SIGQUIT, SIGUSR2) itself: it stops polling, lets running activities finish
      // within the grace time, and returns.
      await worker.run();
      await connection.close();
      await store.close();
    });
}
