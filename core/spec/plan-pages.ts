import { hashOf } from '../hash';
import type { PlannedRun, StudyPlan } from './plan';

/**
 * The plan without its runs, as registerStudy returns it since `patched('i21-plan-in-store')`: the runs (a few
 * hundred bytes each, thousands in a big study) stay in the store at `planKey` and reach the workflow in pages,
 * so no single payload grows with the study.
 */
export type PlanHead = Omit<StudyPlan, 'runs'> & { planKey: string; runCount: number };

/** A page of the plan's runs stays under this many bytes of JSON (Temporal refuses a payload past 2 MB). */
export const PLAN_PAGE_BYTES = 256 * 1024;

/** Content address of a plan: a changed planner gives the same spec a new key, never a stale plan. */
export function planKeyOf(plan: StudyPlan): string {
  return `studies/${plan.studyHash}/plan-${hashOf(plan)}.json`;
}

export function planHead(plan: StudyPlan, planKey: string): PlanHead {
  const { runs, ...head } = plan;
  return { ...head, planKey, runCount: runs.length };
}

/** The runs from `from` on that fit in `budget` bytes of JSON (at least one), and where the next page starts. */
export function pageOfRuns(
  runs: readonly PlannedRun[],
  from: number,
  budget = PLAN_PAGE_BYTES,
): { runs: PlannedRun[]; next: number } {
  const page: PlannedRun[] = [];
  let bytes = 2;
  for (let i = from; i < runs.length; i++) {
    const size = Buffer.byteLength(JSON.stringify(runs[i])) + 1;
    if (page.length && bytes + size > budget) break;
    page.push(runs[i]!);
    bytes += size;
  }
  return { runs: page, next: from + page.length };
}
