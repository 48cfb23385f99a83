import type { AggregateInput } from '../activities/report';
import type { RunSummary, StoredRunSummary } from '../core/contracts';
import type { PreparedDataset } from '../core/data/prepare';
import type { FailedRun } from '../core/report/results';
import type { StudyPlan } from '../core/spec/plan';

/**
 * aggregateResults' input from what the study holds at its end: finished runs and failed ones in plan order.
 * With `planKey` (studies since `patched('i21-plan-in-store')`) the plan and every stored run summary are passed
 * by key, so the payload grows by one key per run; without it, inline as before. Pure: the payload-size test
 * builds the same input for a study of thousands of runs.
 */
export function reportInputOf(study: {
  plan: StudyPlan;
  planKey?: string;
  specKey: string;
  dataset: PreparedDataset | null;
  variantKeys: Record<string, string>;
  finished: (RunSummary | StoredRunSummary)[];
  failed: FailedRun[];
  cancelled: boolean;
}): AggregateInput {
  const inPlanOrder = <T extends { runId: string }>(xs: T[]): T[] => {
    const byRun = new Map<string, T[]>();
    for (const x of xs) {
      const same = byRun.get(x.runId);
      if (same) same.push(x);
      else byRun.set(x.runId, [x]);
    }
    return study.plan.runs.flatMap((r) => byRun.get(r.runId) ?? []);
  };
  const runs = inPlanOrder(study.finished);
  const rest = {
    specKey: study.specKey,
    dataset: study.dataset,
    variantKeys: study.variantKeys,
    cancelled: study.cancelled,
    ...(study.failed.length ? { failedRuns: inPlanOrder(study.failed) } : {}),
  };
  // Older studies: the plan inline, and each run as its child returned it (a summary, or its key from a run
  // started after the change).
  if (study.planKey === undefined) return { plan: study.plan, ...rest, runs };
  return {
    planKey: study.planKey,
    ...rest,
    runs: runs.map((r) => ('summaryKey' in r ? { summaryKey: r.summaryKey } : r)),
  };
}
