import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { CPU_QUEUE } from '../common/queues';
import { checkContextFiles } from '../core/spec/context-files';
import { validateStudySpec } from '../core/spec/validate';
import { studyWorkflowId } from './start-study';

/** Schedule id of a study: stable, so creating the same schedule twice is refused rather than duplicated. */
export function scheduleIdFor(name: string): string {
  return `bgstudy-${name}`;
}

/**
 * A Temporal Schedule that reruns a study on a cron. Overlap policy SKIP: a night whose previous run is
 * still going is skipped, not queued. Unchanged inputs make a rerun reuse every stored stage.
 */
export async function createStudySchedule(
  client: Client,
  rawSpec: unknown,
  options: { cron: string; scheduleId?: string; taskQueue?: string; timezone?: string },
): Promise<string> {
  const spec = validateStudySpec(rawSpec);
  await checkContextFiles(spec);
  const scheduleId = options.scheduleId ?? scheduleIdFor(spec.name);
  await client.schedule.create({
    scheduleId,
    spec: { cronExpressions: [options.cron], timezone: options.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: 'StudyWorkflow',
      // Each scheduled run gets the spec's id plus the schedule's own timestamp suffix.
      workflowId: studyWorkflowId(spec),
      taskQueue: options.taskQueue ?? CPU_QUEUE,
      args: [spec],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    memo: { study: spec.name },
  });
  return scheduleId;
}

export interface ScheduleSummary {
  scheduleId: string;
  cron: string[];
  paused: boolean;
  nextRuns: string[];
}

export async function listStudySchedules(client: Client): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith('bgstudy-')) continue;
    out.push({
      scheduleId: s.scheduleId,
      cron: s.spec?.calendars ? [JSON.stringify(s.spec.calendars)] : [],
      paused: s.state.paused,
      nextRuns: (s.info.nextActionTimes ?? []).slice(0, 3).map((d) => d.toISOString()),
    });
  }
  return out;
}

export async function deleteStudySchedule(client: Client, scheduleId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
