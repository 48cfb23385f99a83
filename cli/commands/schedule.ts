import type { Command } from 'commander';
import { connectClient } from '../../client/connect';
import { createStudySchedule, deleteStudySchedule, listStudySchedules } from '../../client/schedules';
import { loadConfig } from '../../config/config';
import { readSpecFile } from '../spec-file';

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('nightly (or any cron) reruns of a study as Temporal Schedules');

  schedule
    .command('create')
    .description('create a schedule that starts the study on a cron (overlap: skip)')
    .requiredOption('--cron <expr>', 'cron expression, e.g. "0 2 * * *" for 02:00 every night')
    .option('--preset <name>', 'a preset from presets/', 'quick')
    .option('--spec <file>', 'a study spec JSON file (instead of --preset)')
    .option('--id <scheduleId>', 'schedule id (default: bgstudy-<study name>)')
    .option('--timezone <tz>', 'IANA time zone of the cron, e.g. Europe/Berlin (default UTC)')
    .action(async (opts: { cron: string; preset: string; spec?: string; id?: string; timezone?: string }) => {
      const spec = await readSpecFile(opts);
      const client = await connectClient(loadConfig().temporal);
      try {
        const id = await createStudySchedule(client, spec, {
          cron: opts.cron,
          scheduleId: opts.id,
          timezone: opts.timezone,
        });
        console.log(
          `schedule ${id} created (${opts.cron}); see it with: temporal schedule describe --schedule-id ${id}`,
        );
      } finally {
        await client.connection.close();
      }
    });

  schedule
    .command('list')
    .description("list bgstudy's schedules with their next runs")
    .action(async () => {
      const client = await connectClient(loadConfig().temporal);
      try {
        const all = await listStudySchedules(client);
        if (all.length === 0) console.log('no bgstudy schedules');
        for (const s of all) {
          console.log(`${s.scheduleId}${s.paused ? ' (paused)' : ''}  next: ${s.nextRuns.join(', ') || '-'}`);
        }
      } finally {
        await client.connection.close();
      }
    });

  schedule
    .command('delete <scheduleId>')
    .description('delete a schedule (studies it started are kept)')
    .action(async (scheduleId: string) => {
      const client = await connectClient(loadConfig().temporal);
      try {
        const deleted = await deleteStudySchedule(client, scheduleId);
        console.log(deleted ? `schedule ${scheduleId} deleted` : `no schedule ${scheduleId}`);
      } finally {
        await client.connection.close();
      }
    });
}
