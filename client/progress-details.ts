import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { runProgressQuery, type RunProgress, type StudyProgress } from '../workflows';

/** What one RunWorkflow in flight is doing: its query state plus the newest heartbeat of its activity. */
export interface RunStatus {
  id: string;
  /** e.g. "small_cnn on mixed_rand (seed 1)" (the workflow id's tail for runs started before labels). */
  label: string;
  phase: RunProgress['phase'];
  /** Share of the run done, 0..1: training batches, then evaluations. */
  fraction: number;
  /** e.g. "epoch 2/3 batch 14/40 loss 0.512 acc 0.613 410 img/s". */
  detail: string;
}

/**
 * Training heartbeat (activities/train.ts) or evaluation heartbeat ({ done, total } images; the batched
 * evaluation adds the test set it is on: `variant` of the `variants` it had left to compute).
 */
interface Beat {
  variant?: number;
  variants?: number;
  epoch?: number;
  batch?: number;
  batchesPerEpoch?: number;
  loss?: number;
  acc?: number;
  imagesPerSec?: number;
  done?: number;
  total?: number;
}

/** Training's share of a run; evaluation, the challenge and saliency share the rest. */
const TRAIN_SHARE = 0.8;

const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** Pure: the status of one run from its query state and its pending activity's heartbeat (if any). */
export function runStatusOf(id: string, run: RunProgress, beat: Beat | undefined, attempt = 1): RunStatus {
  const label = run.label ?? id.split('/').pop()!;
  const parts: string[] = [];
  let fraction: number;
  // one evaluation activity for all test sets (patched 'batched-evaluation'): the query counts them only at
  // its end, so the sets done so far come from its heartbeat
  const variant = num(beat?.variant);
  const variants = num(beat?.variants);
  const setsDone =
    run.phase === 'evaluate' && variant !== undefined && variants !== undefined
      ? Math.max(run.evaluationsDone, run.evaluationsTotal - variants + variant)
      : run.evaluationsDone;
  const evalShare = run.evaluationsTotal ? setsDone / run.evaluationsTotal : 0;
  const epoch = num(beat?.epoch);
  const batch = num(beat?.batch);
  const perEpoch = num(beat?.batchesPerEpoch);
  if (run.phase === 'train' || run.phase === 'import') {
    fraction = 0;
    if (epoch !== undefined && batch !== undefined && perEpoch) {
      const epochs = run.epochs ?? epoch + 1;
      fraction = TRAIN_SHARE * Math.min(1, (epoch * perEpoch + batch) / (epochs * perEpoch));
      parts.push(`epoch ${epoch + 1}${run.epochs ? `/${run.epochs}` : ''} batch ${batch}/${perEpoch}`);
      if (num(beat?.loss) !== undefined) parts.push(`loss ${beat!.loss!.toFixed(3)}`);
      if (num(beat?.acc) !== undefined) parts.push(`acc ${beat!.acc!.toFixed(3)}`);
      if (num(beat?.imagesPerSec) !== undefined) parts.push(`${Math.round(beat!.imagesPerSec!)} img/s`);
    }
  } else if (run.phase === 'done') {
    fraction = 1;
  } else {
    fraction = TRAIN_SHARE + (1 - TRAIN_SHARE) * (run.phase === 'evaluate' ? evalShare * 0.9 : 0.9);
    if (run.phase === 'evaluate') parts.push(`${setsDone}/${run.evaluationsTotal} test sets`);
    if (num(beat?.done) !== undefined && num(beat?.total)) parts.push(`${beat!.done}/${beat!.total} images`);
  }
  if (attempt > 1) parts.push(`(attempt ${attempt})`);
  return { id, label, phase: run.phase, fraction, detail: [run.phase, ...parts].join(' ') };
}

/** Every RunWorkflow in flight: its query and the heartbeat details the server holds for its activity. */
export async function runStatuses(client: Client, progress: StudyProgress): Promise<RunStatus[]> {
  const out = await Promise.all(
    progress.running.map(async (id) => {
      const handle = client.workflow.getHandle(id);
      const [run, description] = await Promise.all([
        handle.query(runProgressQuery).catch(() => undefined),
        handle.describe().catch(() => undefined),
      ]);
      if (!run) return undefined;
      const pending = description?.raw.pendingActivities?.[0];
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      const beat = payload ? defaultPayloadConverter.fromPayload<Beat>(payload) : undefined;
      return runStatusOf(id, run, beat ?? undefined, pending?.attempt ?? 1);
    }),
  );
  return out.filter((s): s is RunStatus => s !== undefined);
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Remaining time of the current stage, e.g. "ETA 3m20s": its elapsed time over the work done so far, where the
 * runs in flight count with the share they have done (so the estimate does not rise while the last runs
 * finish). '' before any work is measurable.
 */
export function etaOf(progress: StudyProgress, runs: RunStatus[] = [], now = Date.now()): string {
  const stage = progress.stages[progress.stage as keyof StudyProgress['stages']];
  if (stage?.startedAt === undefined || stage.done >= stage.total) return '';
  const partial = progress.stage === 'runs' ? runs.reduce((s, r) => s + Math.min(r.fraction, 0.999), 0) : 0;
  const done = stage.done + partial;
  if (done <= 0.02) return '';
  return `ETA ${formatDuration(((now - stage.startedAt) / done) * (stage.total - done))}`;
}
