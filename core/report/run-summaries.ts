import { mapLimit } from '../../common/map-limit';
import type { ArtifactStore } from '../../store/artifact-store';
import { getJson } from '../../store/json';
import type { RunOutcome, RunSummary } from '../contracts';
import { hashOf } from '../hash';

/**
 * Where a run's summary is stored: content-addressed by the summary's numbers, under its planned run's id. What
 * only describes the attempt that trained (reused, where it resumed, batches this attempt) is left out of the
 * hash, so an unchanged rerun lands on the stored summary and writes nothing; the report reads none of it.
 */
export function runSummaryKey(summary: RunSummary): string {
  const { reused: _r, resumedFrom: _f, batchesTrainedThisAttempt: _b, ...train } = summary.train;
  // The summary as JSON carries it: NaN and undefined read back as null and absent, as through Temporal.
  return `run-summaries/${summary.runId}/${hashOf(JSON.parse(JSON.stringify({ ...summary, train })))}.json`;
}

/** The report's input runs as summaries, in their order: stored ones read back (a few at a time). */
export async function readRunSummaries(store: ArtifactStore, runs: RunOutcome[]): Promise<RunSummary[]> {
  return mapLimit(runs, 16, (r) =>
    'summaryKey' in r ? getJson<RunSummary>(store, r.summaryKey) : Promise.resolve(r),
  );
}
