import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { runProgressQuery, type StudyProgress } from '../workflows';

/** One line per RunWorkflow in flight: its phase and, while training, the epoch/batch/loss of its heartbeat. */
export async function runDetails(client: Client, progress: StudyProgress): Promise<string[]> {
  const lines: string[] = [];
  for (const id of progress.running) {
    const handle = client.workflow.getHandle(id);
    const [run, description] = await Promise.all([
      handle.query(runProgressQuery).catch(() => undefined),
      handle.describe().catch(() => undefined),
    ]);
    if (!run) continue;
    let detail = run.phase === 'evaluate' ? ` ${run.evaluationsDone}/${run.evaluationsTotal}` : '';
    for (const a of description?.raw.pendingActivities ?? []) {
      const payload = a.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const hb = defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload);
      if (typeof hb.epoch === 'number' && typeof hb.batch === 'number') {
        const loss = typeof hb.loss === 'number' ? hb.loss.toFixed(3) : '?';
        const acc = typeof hb.acc === 'number' ? hb.acc.toFixed(3) : '?';
        detail += ` epoch ${hb.epoch + 1} batch ${hb.batch}/${typeof hb.batchesPerEpoch === 'number' ? hb.batchesPerEpoch : '?'} loss ${loss} acc ${acc}`;
      }
      if ((a.attempt ?? 1) > 1) detail += ` (attempt ${a.attempt})`;
    }
    lines.push(`${id.split('/').pop()}: ${run.phase}${detail}`);
  }
  return lines;
}

/** Remaining time of the current stage from its pace so far, e.g. "ETA 3m20s"; '' before anything finished. */
export function etaOf(progress: StudyProgress, now = Date.now()): string {
  const stage = progress.stages[progress.stage as keyof StudyProgress['stages']];
  if (!stage?.startedAt || stage.done === 0 || stage.done >= stage.total) return '';
  const left = ((now - stage.startedAt) / stage.done) * (stage.total - stage.done);
  const s = Math.round(left / 1000);
  return `ETA ${s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`}`;
}
