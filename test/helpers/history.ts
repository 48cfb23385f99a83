import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

export interface ActivityRecord {
  type: string;
  scheduled: number;
  completed: number;
  /** Attempts that ended in failure or timeout (then retried). */
  failedAttempts: number;
  results: unknown[];
}

/** Per activity type: how often it was scheduled, completed, failed, with decoded results. */
export async function activityRecords(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<Map<string, ActivityRecord>> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const byScheduledId = new Map<string, string>();
  const out = new Map<string, ActivityRecord>();
  const rec = (type: string) => {
    let r = out.get(type);
    if (!r) out.set(type, (r = { type, scheduled: 0, completed: 0, failedAttempts: 0, results: [] }));
    return r;
  };
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      byScheduledId.set(id, type);
      rec(type).scheduled++;
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) {
      const r = rec(byScheduledId.get(String(completed.scheduledEventId)) ?? '?');
      r.completed++;
      const payload = completed.result?.payloads?.[0];
      r.results.push(payload ? defaultPayloadConverter.fromPayload(payload) : undefined);
    }
    const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (failed) rec(byScheduledId.get(String(failed.scheduledEventId)) ?? '?').failedAttempts++;
    // Retried attempts of one scheduled activity are not separate events; their count is on the started event.
    const started = e.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1)
      rec(byScheduledId.get(String(started.scheduledEventId)) ?? '?').failedAttempts +=
        (started.attempt ?? 1) - 1;
  }
  return out;
}
