import path from 'node:path';
import type { PreparedDataset } from '../core/data/prepare';
import { buildResults } from '../core/report/results';
import { reportFolderName, writeStudyReport } from '../core/report/write-report';
import type { StudyPlan } from '../core/spec/plan';
import type { ArtifactStore } from '../store';
import { activityHooks } from './activity-context';
import type { RunSummary } from '../workflows/run-workflow';

export interface AggregateInput {
  plan: StudyPlan;
  specKey: string;
  dataset: PreparedDataset | null;
  variantKeys: Record<string, string>;
  runs: RunSummary[];
  cancelled: boolean;
}

export interface AggregateOutput {
  resultsKey: string;
  /** report.md */
  reportKey: string;
  reportDir?: string;
  /** The self-contained HTML report in the store. */
  htmlKey: string;
  /** report.html in the local folder, when the worker writes one. */
  htmlPath?: string;
}

/**
 * The last stage: every number of the study into results.json/csv, report.md and report.html, in the store
 * (`reports/<studyHash>/`) and a local folder.
 */
export function createReportActivities(deps: { store: ArtifactStore; reportRoot?: string }) {
  return {
    async aggregateResults(input: AggregateInput): Promise<AggregateOutput> {
      const results = buildResults(input);
      const reportDir = deps.reportRoot ? path.join(deps.reportRoot, reportFolderName(results)) : undefined;
      const written = await writeStudyReport(deps.store, results, { toStore: true, localDir: reportDir });
      activityHooks().info('report written', {
        prefix: written.prefix,
        reportDir,
        rows: results.rows.length,
        assetProblems: written.problems.length,
      });
      return {
        resultsKey: written.keys.results,
        reportKey: written.keys.markdown,
        reportDir,
        htmlKey: written.keys.html,
        htmlPath: written.htmlPath,
      };
    },
  };
}
