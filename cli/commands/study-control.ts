import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectClient } from '../../client/connect';
import { runStatuses } from '../../client/progress-details';
import { startStudy } from '../../client/start-study';
import { loadConfig } from '../../config/config';
import { cancelSignal, progressQuery } from '../../workflows';
import { progressLines } from '../progress-view';
import { presetOption, readSpecFile } from '../spec-file';

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(loadConfig().temporal);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** `start`, `status`, `cancel`: a study on any Temporal cluster, by spec or workflow id. */
export function registerStudyControl(program: Command): void {
  program
    .command('start')
    .description(
      'start a study on the cluster at TEMPORAL_ADDRESS (workers must be running); prints its workflow id',
    )
    .option('--preset <name>', 'a preset from presets/', 'quick')
    .option('--spec <file>', 'a study spec JSON file (instead of --preset)')
    .action(async (opts: { preset: string; spec?: string }) => {
      const spec = await readSpecFile(opts);
      await withClient(async (client) => {
        const handle = await startStudy(client, spec, { workflowOptions: presetOption(opts) });
        console.log(handle.workflowId);
      });
    });

  program
    .command('status <workflowId>')
    .description("a study's state and progress (stage, done/total per stage, current training metrics)")
    .option('--json', 'print the progress query result as JSON')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const handle = client.workflow.getHandle(workflowId);
        const description = await handle.describe();
        const progress = await handle.query(progressQuery).catch(() => undefined);
        if (opts.json) {
          console.log(JSON.stringify({ status: description.status.name, progress }, null, 2));
          return;
        }
        console.log(
          `${workflowId}: ${description.status.name} (started ${description.startTime.toISOString()})`,
        );
        if (progress) {
          console.log(`stage: ${progress.stage}`);
          for (const line of progressLines(progress, await runStatuses(client, progress)))
            console.log(`  ${line}`);
        }
      });
    });

  program
    .command('cancel <workflowId>')
    .description(
      'stop a study cleanly: running stages finish or stop at a checkpoint; finished artifacts are kept',
    )
    .action(async (workflowId: string) => {
      await withClient(async (client) => {
        await client.workflow.getHandle(workflowId).signal(cancelSignal);
        console.log(`cancel requested for ${workflowId}`);
      });
    });
}
