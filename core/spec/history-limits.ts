/**
 * How big a study one StudyWorkflow can carry. Temporal fails a workflow whose history passes 50,000 events or
 * 50 MB (and warns from 10,000 / 10 MB). Each RunWorkflow child keeps its own history (about 21 events), but
 * the study's history grows with every run and variant instance, so a plan past this bound is refused with the
 * spec, before anything reaches Temporal (bench/RESULTS.md "Scale: runs" measures the events per run).
 */
export const MAX_STUDY_HISTORY_EVENTS = 40_000;

/** A child run at worst: start initiated, started, completed (or failed), and a workflow task after each reply. */
export const EVENTS_PER_RUN = 9;
/** An activity at worst: scheduled, started, completed, and the workflow task that reads its result. */
export const EVENTS_PER_ACTIVITY = 6;
/** Start, registration, search attributes, dataset, report, completion, and their workflow tasks. */
const FIXED_EVENTS = 60;
/** Runs per page of the stored plan, at the least (a trained run's JSON is ~400 bytes, a page 256 KiB). */
const RUNS_PER_PAGE = 200;

/** Events the study's own history reaches, at worst, for a plan of `runs` runs and `variants` variant instances. */
export function studyHistoryEvents(runs: number, variants: number): number {
  const pages = Math.ceil(runs / RUNS_PER_PAGE);
  return FIXED_EVENTS + EVENTS_PER_ACTIVITY * (variants + pages) + EVENTS_PER_RUN * runs;
}
